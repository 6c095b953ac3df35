import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def close_figures():
    """Tests inspect figures before saving them: close every figure a test leaves open."""
    yield
    plt.close("all")
