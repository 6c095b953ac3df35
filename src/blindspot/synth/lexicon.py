"""Per-specialty vocabulary: who the doctor is, the conditions, drugs and doses, tests, side effects.

A review's placeholders (see :mod:`blindspot.synth.fragments`) are filled from one
specialty's :class:`Lexicon`; :mod:`blindspot.synth.library` draws the consistent
combinations ("cases") once per process.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lexicon:
    """The words of one specialty.

    Attributes
    ----------
    doc, a_doc : str
        The doctor, bare and with its article ("GP", "a GP").
    pcond, jcond : tuple of str
        Conditions in plain words and in clinical words.
    drugs : tuple of (name, unit, doses)
        Drugs with their unit and the doses a case may name.
    tests : tuple of (bare, with article)
        Investigations.
    """

    doc: str
    a_doc: str
    pcond: tuple[str, ...]
    jcond: tuple[str, ...]
    drugs: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, unit, doses)
    tests: tuple[tuple[str, str], ...]  # (bare, with article)


LEXICA: dict[str, Lexicon] = {
    "general_practice": Lexicon(
        "GP", "a GP",
        ("cough", "sore throat", "headaches", "back pain", "earache", "chest infection"),
        ("sinusitis", "acute bronchitis", "UTI", "gastroenteritis", "pharyngitis", "cephalalgia", "cystitis"),
        (("amoxicillin", "mg", ("250", "500")), ("ibuprofen", "mg", ("200", "400")), ("nitrofurantoin", "mg", ("50", "100")),
         ("prednisolone", "mg", ("20", "40")), ("naproxen", "mg", ("250", "500"))),
        (("CBC", "a CBC"), ("urinalysis", "a urinalysis"), ("throat swab", "a throat swab"), ("chest X-ray", "a chest X-ray")),
    ),
    "dermatology": Lexicon(
        "dermatologist", "a dermatologist",
        ("rash", "itchy skin", "acne", "mole", "dry patches", "eczema flare"),
        ("atopic dermatitis", "psoriasis", "rosacea", "cellulitis", "folliculitis", "seborrheic dermatitis", "urticaria"),
        (("doxycycline", "mg", ("50", "100")), ("isotretinoin", "mg", ("20", "40")), ("methotrexate", "mg", ("7.5", "15")),
         ("cetirizine", "mg", ("10", "20")), ("spironolactone", "mg", ("50", "100"))),
        (("skin biopsy", "a skin biopsy"), ("dermoscopy", "a dermoscopy"), ("patch test", "a patch test")),
    ),
    "psychiatry": Lexicon(
        "psychiatrist", "a psychiatrist",
        ("anxiety", "low mood", "panic attacks", "sleep", "mood swings", "racing thoughts"),
        ("GAD", "major depressive disorder", "bipolar II", "chronic insomnia", "PTSD", "ADHD", "panic disorder"),
        (("sertraline", "mg", ("50", "100", "150")), ("escitalopram", "mg", ("10", "20")), ("bupropion", "mg", ("150", "300")),
         ("quetiapine", "mg", ("25", "50")), ("lamotrigine", "mg", ("25", "100"))),
        (("PHQ-9", "a PHQ-9"), ("GAD-7 screen", "a GAD-7 screen"), ("medication review", "a medication review")),
    ),
    "pediatrics": Lexicon(
        "pediatrician", "a pediatrician",
        ("son's fever", "daughter's earache", "toddler's rash", "baby's cough", "kid's tummy ache"),
        ("otitis media", "bronchiolitis", "tonsillitis", "croup", "conjunctivitis", "viral gastroenteritis"),
        (("amoxicillin suspension", "mg", ("125", "250")), ("ibuprofen suspension", "mg", ("50", "100")),
         ("azithromycin", "mg", ("100", "200")), ("prednisolone", "mg", ("5", "10")), ("paracetamol", "mg", ("120", "240"))),
        (("throat swab", "a throat swab"), ("urine dipstick", "a urine dipstick"), ("chest X-ray", "a chest X-ray")),
    ),
    "cardiology": Lexicon(
        "cardiologist", "a cardiologist",
        ("chest pain", "racing heart", "blood pressure", "palpitations", "shortness of breath"),
        ("atrial fibrillation", "hypertension", "pericarditis", "stable angina", "tachycardia", "hyperlipidemia", "cardiomyopathy"),
        (("metoprolol", "mg", ("25", "50", "100")), ("amlodipine", "mg", ("5", "10")), ("atorvastatin", "mg", ("20", "40", "80")),
         ("lisinopril", "mg", ("10", "20", "40")), ("apixaban", "mg", ("2.5", "5"))),
        (("echocardiogram", "an echocardiogram"), ("Holter monitor", "a Holter monitor"), ("lipid panel", "a lipid panel"),
         ("ECG", "an ECG"), ("stress test", "a stress test")),
    ),
    "endocrinology": Lexicon(
        "endocrinologist", "an endocrinologist",
        ("blood sugar", "thyroid", "weight gain", "constant tiredness", "diabetes"),
        ("type 2 diabetes", "hypothyroidism", "hyperglycemia", "thyroiditis", "hypoglycemia", "PCOS"),
        (("metformin", "mg", ("500", "850", "1000")), ("levothyroxine", "mcg", ("50", "75", "100")),
         ("semaglutide", "mg", ("0.25", "0.5", "1")), ("empagliflozin", "mg", ("10", "25")),
         ("insulin glargine", "units", ("10", "20"))),
        (("HbA1c", "an HbA1c"), ("TSH panel", "a TSH panel"), ("glucose test", "a glucose test")),
    ),
    "gastroenterology": Lexicon(
        "gastroenterologist", "a gastroenterologist",
        ("stomach pain", "heartburn", "bloating", "bowel problems", "acid reflux"),
        ("GERD", "gastritis", "IBS", "ulcerative colitis", "diverticulitis", "cholecystitis"),
        (("omeprazole", "mg", ("20", "40")), ("pantoprazole", "mg", ("20", "40")), ("mesalamine", "mg", ("800", "1200")),
         ("mebeverine", "mg", ("135", "200")), ("famotidine", "mg", ("20", "40"))),
        (("colonoscopy", "a colonoscopy"), ("endoscopy", "an endoscopy"), ("calprotectin test", "a calprotectin test"),
         ("H. pylori breath test", "an H. pylori breath test")),
    ),
    "neurology": Lexicon(
        "neurologist", "a neurologist",
        ("migraines", "numb hands", "dizzy spells", "memory", "tremor"),
        ("migraine with aura", "peripheral neuropathy", "epilepsy", "trigeminal neuralgia", "vestibular neuritis", "multiple sclerosis"),
        (("sumatriptan", "mg", ("50", "100")), ("topiramate", "mg", ("25", "50")), ("gabapentin", "mg", ("300", "600")),
         ("levetiracetam", "mg", ("250", "500")), ("propranolol", "mg", ("40", "80")), ("amitriptyline", "mg", ("10", "25"))),
        (("MRI", "an MRI"), ("EEG", "an EEG"), ("EMG", "an EMG")),
    ),
    "orthopedics": Lexicon(
        "orthopedic surgeon", "an orthopedic surgeon",
        ("knee", "sore shoulder", "back pain", "wrist", "stiff joints"),
        ("osteoarthritis", "tendinitis", "bursitis", "meniscal tear", "lumbar radiculopathy", "arthralgia"),
        (("naproxen", "mg", ("250", "500")), ("diclofenac", "mg", ("50", "75")), ("celecoxib", "mg", ("100", "200")),
         ("tramadol", "mg", ("50", "100")), ("meloxicam", "mg", ("7.5", "15"))),
        (("X-ray", "an X-ray"), ("MRI", "an MRI"), ("arthroscopy", "an arthroscopy")),
    ),
    "oncology": Lexicon(
        "oncologist", "an oncologist",
        ("breast lump", "tiredness from chemo", "nausea after chemo", "mouth sores", "hair loss"),
        ("stage II carcinoma", "lymphoma", "neutropenia", "metastatic disease", "leukemia", "chemo-induced anemia"),
        (("tamoxifen", "mg", ("10", "20")), ("ondansetron", "mg", ("4", "8")), ("dexamethasone", "mg", ("4", "8")),
         ("capecitabine", "mg", ("500", "1000")), ("letrozole", "mg", ("2.5", "5"))),
        (("PET-CT", "a PET-CT"), ("biopsy", "a biopsy"), ("CBC", "a CBC"), ("CA-125 test", "a CA-125 test")),
    ),
}

SIDE_EFFECTS = (
    "gastritis", "tachycardia", "hyponatremia", "myalgia", "arthralgia", "contact dermatitis", "orthostatic hypotension",
    "dyspepsia", "hyperkalemia", "neutropenia", "cephalalgia", "bradycardia", "stomatitis", "hypoglycemia",
    "peripheral neuropathy", "pancreatitis",
)
PLAIN_SIDE_EFFECTS = (
    "an upset stomach", "a dry mouth", "headaches", "dizziness", "trouble sleeping", "feeling sick", "tiredness",
    "sore muscles", "itchy skin", "a racing heart",
)
FREQ = ("twice daily", "once daily", "at night", "three times a day", "BID", "every 8 hours", "PRN", "with meals")
