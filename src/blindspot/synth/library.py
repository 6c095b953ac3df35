"""The fragment library: every sentence template filled with every specialty case, built once.

A *case* is one consistent story of a specialty (a condition, a drug at two doses, a
test, side effects); a review draws one, so its sentences agree. The library is a
constant of the package (seeded with :data:`LIBRARY_SEED`, not the user's seed), so
two calls of :func:`blindspot.synth.generate` share it and only draw from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import pyarrow as pa

from blindspot.synth.fragments import CLOSER, CORE, DETAIL, MIXED, OPENER, SARCASM, SARCASTIC_CLOSER
from blindspot.synth.lexicon import FREQ, LEXICA, PLAIN_SIDE_EFFECTS, SIDE_EFFECTS, Lexicon
from blindspot.synth.spec import METADATA_VALUES, NEG, NEU, POS

N_CASES = 8  # cases (condition, drug, doses, test, ...) per specialty
LIBRARY_SEED = 1729  # the fragment library is a constant, independent of the user's seed


@dataclass(frozen=True)
class Pool:
    """Fragments of one slot, grouped by key.

    Group ``g`` holds ``n_templates[g]`` strings starting at ``offsets[g]``; the
    ``t``-th is template ``t`` filled with the group's case.
    """

    strings: pa.Array
    offsets: np.ndarray  # int64, (n_groups,)
    n_templates: np.ndarray  # int64, (n_groups,)


def _is_plural(noun: str) -> bool:
    return noun.endswith("s") and not noun.endswith(("ness", "loss", "diabetes"))


def _cases(lex: Lexicon, rng: np.random.Generator, n_cases: int) -> list[dict]:
    """``n_cases`` consistent stories of one specialty: the placeholder values.

    A review draws one case, so its opener, core and detail talk about the same
    condition, drug, dose and test. Conditions and drugs are cycled through a random
    permutation so every one of them appears.
    """
    perm = {name: rng.permutation(len(getattr(lex, name))) for name in ("pcond", "jcond", "drugs", "tests")}
    out = []
    for c in range(n_cases):
        pick = {name: p[c % len(p)] for name, p in perm.items()}
        name, unit, doses = lex.drugs[pick["drugs"]]
        d1, d2 = (str(d) for d in rng.choice(doses, 2, replace=False)) if len(doses) > 1 else (doses[0], doses[0])
        test, a_test = lex.tests[pick["tests"]]
        pcond = lex.pcond[pick["pcond"]]
        out.append({
            "doc": lex.doc, "a_doc": lex.a_doc, "pcond": pcond, "is": "are" if _is_plural(pcond) else "is",
            "jcond": lex.jcond[pick["jcond"]], "drug": name, "med": f"{d1} {unit} {name}", "up": f"{d2} {unit}",
            "freq": FREQ[rng.integers(len(FREQ))], "test": test, "a_test": a_test,
            "sfx": SIDE_EFFECTS[rng.integers(len(SIDE_EFFECTS))],
            "psfx": PLAIN_SIDE_EFFECTS[rng.integers(len(PLAIN_SIDE_EFFECTS))],
        })
    return out


@lru_cache(maxsize=1)
def _contexts() -> tuple[dict, ...]:
    """All cases, specialty-major: context ``s * N_CASES + c``."""
    rng = np.random.default_rng(LIBRARY_SEED)
    return tuple(case for spec in METADATA_VALUES["specialty"] for case in _cases(LEXICA[spec], rng, N_CASES))


def _fill(template: str, case: dict, rng: np.random.Generator) -> str:
    """``template`` filled with ``case`` (and a second side effect), capitalised."""
    if not template:
        return ""
    others = [x for x in SIDE_EFFECTS if x != case["sfx"]]
    text = template.format(**case, sfx2=others[rng.integers(len(others))])
    return text[:1].upper() + text[1:]


def _make_pool(groups: Sequence[Sequence[str]], contexts: Sequence[dict], lead: str) -> Pool:
    """Expand template groups for every context; group order is ``(context, group)``.

    Parameters
    ----------
    groups : sequence of sequence of str, length G
        Templates of each group (``("",)`` for an empty slot).
    contexts : sequence of dict, length C
        Placeholder values (see :func:`_cases`).
    lead : str
        Prefix of every non-empty fragment (a space, so that slots join with "").

    Returns
    -------
    Pool
        ``C * G`` groups; group ``c * G + g`` is ``groups[g]`` filled with context ``c``.
    """
    rng = np.random.default_rng(LIBRARY_SEED)
    strings, offsets, n_templates = [], [], []
    for case in contexts:
        for templates in groups:
            offsets.append(len(strings))
            n_templates.append(len(templates))
            for tpl in templates:
                text = _fill(tpl, case, rng)
                strings.append(lead + text if text else "")
    return Pool(pa.array(strings, pa.string()), np.asarray(offsets, np.int64), np.asarray(n_templates, np.int64))


@lru_cache(maxsize=1)
def fragment_pools() -> dict[str, Pool]:
    """The fragment pools, built once per process (a constant, see ``LIBRARY_SEED``)."""
    contexts = _contexts()
    regs = ("plain", "jargon")
    pols = (NEG, NEU, POS)
    empty = ("",)
    # opener groups: (register, present)
    opener = [tpl for r in regs for tpl in (empty, OPENER[r])]
    # s1 groups: (polarity, register, negated, sarcastic)
    s1 = [(SARCASM[r] if sarc else CORE[(p, r, bool(neg))])
          for p in pols for r in regs for neg in (0, 1) for sarc in (0, 1)]
    # s2 groups: (polarity, register, variant): empty, negated negative core, plain core
    s2 = [v for p in pols for r in regs for v in (empty, CORE[(NEG, r, True)], CORE[(p, r, False)])]
    # s3 groups: (polarity, register, mixed)
    s3 = [tpl for p in pols for r in regs for tpl in (empty, MIXED[(p, r)])]
    detail = [DETAIL[(p, r)] for p in pols for r in regs]
    closer = [tpl for p in pols for sarc in (0, 1)
              for tpl in (empty, (CLOSER[p] + SARCASTIC_CLOSER) if sarc else CLOSER[p])]
    return {
        "opener": _make_pool(opener, contexts, ""),
        "s1": _make_pool(s1, contexts, " "),
        "s2": _make_pool(s2, contexts, " "),
        "s3": _make_pool(s3, contexts, " "),
        "detail": _make_pool(detail, contexts, " "),
        "closer": _make_pool(closer, contexts[:1], " "),  # closers name no case
    }

