"""Seeded synthetic consultation-app reviews with a simulated model, blind spots on demand.

:func:`generate` builds ``n`` realistic short reviews of a medical consultation app,
their sentiment labels, a *simulated* sentiment model's predictions and metadata, and
optionally plants blind spots (slices where the model errs more often, possibly with
high confidence). :func:`write` stores the result in the project's input contract
(JSON Lines, Parquet or CSV) next to a ``<stem>.truth.json`` describing what was
planted. Tests and benchmarks use it as data whose answer is known.

Everything is vectorised: texts are assembled by drawing, per row, one precomposed
fragment per slot (opener, core sentence, optional second sentence, optional mixed
sentence, detail, closer) with a numpy ``Generator`` and joining the slots with
``pyarrow.compute``; 1,000,000 rows take seconds.

The simulated model
-------------------
Null mode: confidence ``c`` is drawn per row from a Beta scaled onto ``(1/K, 1)``
with mean ``mean_confidence`` and the prediction is correct with probability ``c``,
so the model is perfectly calibrated in expectation and its errors are independent
of every text feature and metadata column. A wrong prediction is one of the other
classes, uniformly.

Planted mode: as null, plus slices (:class:`PlantedSlice`) defined by a predicate on
metadata columns and/or latent text attributes. Inside a slice, correct predictions
are flipped to wrong with probability ``error_gap / mean_confidence``, which raises
the error rate from ``1 - mean_confidence`` to exactly ``1 - mean_confidence +
error_gap`` in expectation; optionally the wrong predictions of the slice get
confidence near a given value (confidently incorrect). Slices are disjoint and the
predicate holds on a ``share`` of rows in expectation, outside as well as inside
(rows that would match a slice by chance are redrawn).

Probabilities are quantised to 1e-6 (integers of micro-units that sum to exactly
10**6), so what :func:`write` puts in a file with 6 decimals is exactly the frame.

Latent attributes
-----------------
``register`` (plain/jargon), ``negated``, ``sarcastic`` (negative reviews only) and
``mixed`` decide which fragments a review is made of; they are returned in
:attr:`SynthData.latent` as ground truth but are *not* metadata: an audit has to
recover them from the text.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

DEFAULT_CLASSES = ("negative", "neutral", "positive")
DEFAULT_CLASS_SHARES = (0.26, 0.09, 0.65)
# Two classes: the neutral share folded into the other two in proportion.
DEFAULT_BINARY_SHARES = (0.29, 0.71)

# Metadata: independent of each other, of the label and of errors (null mode).
METADATA_VALUES: dict[str, tuple[str, ...]] = {
    "age_band": ("18-29", "30-44", "45-64", "65+"),
    "platform": ("ios", "android", "web"),
    "specialty": (
        "general_practice", "dermatology", "psychiatry", "pediatrics", "cardiology",
        "endocrinology", "gastroenterology", "neurology", "orthopedics", "oncology",
    ),
    "app_version": ("4.1.0", "4.2.3", "4.3.0", "5.0.1"),
}
METADATA_SHARES: dict[str, tuple[float, ...]] = {
    "age_band": (0.24, 0.34, 0.28, 0.14),
    "platform": (0.46, 0.39, 0.15),
    "specialty": (0.27, 0.12, 0.14, 0.09, 0.08, 0.07, 0.07, 0.07, 0.05, 0.04),
    "app_version": (0.08, 0.22, 0.42, 0.28),
}
METADATA_COLUMNS = tuple(METADATA_VALUES)

# Latent attributes and their base rates by polarity (negative, neutral, positive):
# negative reviews negate more often; sarcasm is a way of being negative only.
LATENT_VALUES: dict[str, tuple[Any, ...]] = {
    "register": ("plain", "jargon"),
    "negated": (False, True),
    "sarcastic": (False, True),
    "mixed": (False, True),
}
_LATENT_TRUE_RATE = {
    "register": (0.30, 0.30, 0.30),
    "negated": (0.30, 0.20, 0.12),
    "sarcastic": (0.22, 0.0, 0.0),
    "mixed": (0.15, 0.20, 0.12),
}
LATENT_COLUMNS = ("register", "negated", "sarcastic", "mixed", "in_planted")

MODES = ("null", "planted")
_NEG, _NEU, _POS = 0, 1, 2  # polarity codes
_MICRO = 1_000_000  # probabilities are integers of 1e-6
_C_MARGIN = 1e-3  # confidence stays this far above 1/K ...
_C_MAX = 1 - 1e-4  # ... and below 1, so every class keeps >= 1e-6 of mass
_SLICE_CONFIDENCE_SD = 0.02


# --------------------------------------------------------------------------- API types


@dataclass(frozen=True)
class PlantedSlice:
    """A blind spot to plant.

    Parameters
    ----------
    predicate : mapping of str to str or bool
        Column -> value that defines the slice; columns are metadata
        (:data:`METADATA_COLUMNS`) or latent attributes (``register``, ``negated``,
        ``sarcastic``, ``mixed``). Boolean attributes accept ``True``/``False`` or
        the strings ``"true"``/``"false"`` (also ``1/0``, ``yes/no``).
    error_gap : float
        Error rate inside the slice minus the error rate of rows in no planted slice
        (``1 - mean_confidence``), exactly in expectation; at most ``mean_confidence``.
        With a single slice that is the gap to all other rows; with several, the
        gap to the complement is smaller (it holds the other slices) and is given as
        ``expected_gap`` in the truth.
    confidence : float, optional
        If given, wrong predictions inside the slice get confidence near this value
        (``N(confidence, 0.02)`` clipped into ``(1/K, 1)``).
    share : float
        Expected share of rows on which the predicate holds.
    class_weights : sequence of float, length K, optional
        Relative odds that a row of each true class is in the slice (default: equal,
        so the slice has the data's class mix). Unequal weights plant a slice whose
        *class mix* differs: with ``error_gap=0`` and a weak class
        (``generate(class_error_gaps=...)``) it is worse than the rest only because it
        holds more of that class, with no effect within any class.
    """

    predicate: Mapping[str, Any]
    error_gap: float = 0.20
    confidence: float | None = None
    share: float = 0.10
    class_weights: Sequence[float] | None = None

    @classmethod
    def parse(cls, spec: str, **kwargs) -> "PlantedSlice":
        """Build from ``"col=value[,col=value...]"`` (the CLI's ``--plant``).

        Examples
        --------
        >>> PlantedSlice.parse("age_band=65+,platform=android", error_gap=0.3).predicate
        {'age_band': '65+', 'platform': 'android'}
        """
        predicate = {}
        for part in spec.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"bad slice spec {spec!r}: expected col=value[,col=value...]")
            predicate[key.strip()] = value.strip()
        return cls(predicate=predicate, **kwargs)


@dataclass
class SynthData:
    """Output of :func:`generate`.

    Attributes
    ----------
    frame : DataFrame, shape (n, 5 + K + 4)
        ``id, text, label, prediction, confidence, p_<class>..., age_band, platform,
        specialty, app_version`` (the input contract, flat form).
    truth : dict
        JSON-serialisable description of what was generated (see :func:`generate`).
    latent : DataFrame, shape (n, 5)
        Same index as ``frame``: ``register`` (str), ``negated``, ``sarcastic``,
        ``mixed`` (bool) and ``in_planted`` (int: planted slice index, -1 for none).
    """

    frame: pd.DataFrame
    truth: dict
    latent: pd.DataFrame

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.truth["classes"])


# --------------------------------------------------------------------- text library
#
# Placeholders filled per specialty when the library is built: {doc}, {a_doc},
# {pcond} (plain condition, used as "my {pcond}"), {jcond} (clinical condition),
# {drug}, {med} ("50 mg sertraline"), {up} (another dose of the same drug, "100 mg"),
# {freq}, {test}, {a_test}, {sfx}, {sfx2} (clinical side effects), {psfx} (plain).
#
# Pool discipline, so that the latent attributes are recoverable from the text:
# only negated pools use negation words (not, n't, never, no, nothing, nobody, no
# longer); only sarcastic pools use sarcasm cues (oh great, yeah right, just what I
# needed, thanks a lot, love waiting, "scare quotes"); only mixed pools use contrast
# words (but, although, though, however); plain pools carry no clinical morphology
# (-itis, -emia, -algia, -osis, -ectomy) and no doses; every jargon detail names a dose.


@dataclass(frozen=True)
class _Lexicon:
    doc: str
    a_doc: str
    pcond: tuple[str, ...]
    jcond: tuple[str, ...]
    drugs: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, unit, doses)
    tests: tuple[tuple[str, str], ...]  # (bare, with article)


_LEXICA: dict[str, _Lexicon] = {
    "general_practice": _Lexicon(
        "GP", "a GP",
        ("cough", "sore throat", "headaches", "back pain", "earache", "chest infection"),
        ("sinusitis", "acute bronchitis", "UTI", "gastroenteritis", "pharyngitis", "cephalalgia", "cystitis"),
        (("amoxicillin", "mg", ("250", "500")), ("ibuprofen", "mg", ("200", "400")), ("nitrofurantoin", "mg", ("50", "100")),
         ("prednisolone", "mg", ("20", "40")), ("naproxen", "mg", ("250", "500"))),
        (("CBC", "a CBC"), ("urinalysis", "a urinalysis"), ("throat swab", "a throat swab"), ("chest X-ray", "a chest X-ray")),
    ),
    "dermatology": _Lexicon(
        "dermatologist", "a dermatologist",
        ("rash", "itchy skin", "acne", "mole", "dry patches", "eczema flare"),
        ("atopic dermatitis", "psoriasis", "rosacea", "cellulitis", "folliculitis", "seborrheic dermatitis", "urticaria"),
        (("doxycycline", "mg", ("50", "100")), ("isotretinoin", "mg", ("20", "40")), ("methotrexate", "mg", ("7.5", "15")),
         ("cetirizine", "mg", ("10", "20")), ("spironolactone", "mg", ("50", "100"))),
        (("skin biopsy", "a skin biopsy"), ("dermoscopy", "a dermoscopy"), ("patch test", "a patch test")),
    ),
    "psychiatry": _Lexicon(
        "psychiatrist", "a psychiatrist",
        ("anxiety", "low mood", "panic attacks", "sleep", "mood swings", "racing thoughts"),
        ("GAD", "major depressive disorder", "bipolar II", "chronic insomnia", "PTSD", "ADHD", "panic disorder"),
        (("sertraline", "mg", ("50", "100", "150")), ("escitalopram", "mg", ("10", "20")), ("bupropion", "mg", ("150", "300")),
         ("quetiapine", "mg", ("25", "50")), ("lamotrigine", "mg", ("25", "100"))),
        (("PHQ-9", "a PHQ-9"), ("GAD-7 screen", "a GAD-7 screen"), ("medication review", "a medication review")),
    ),
    "pediatrics": _Lexicon(
        "pediatrician", "a pediatrician",
        ("son's fever", "daughter's earache", "toddler's rash", "baby's cough", "kid's tummy ache"),
        ("otitis media", "bronchiolitis", "tonsillitis", "croup", "conjunctivitis", "viral gastroenteritis"),
        (("amoxicillin suspension", "mg", ("125", "250")), ("ibuprofen suspension", "mg", ("50", "100")),
         ("azithromycin", "mg", ("100", "200")), ("prednisolone", "mg", ("5", "10")), ("paracetamol", "mg", ("120", "240"))),
        (("throat swab", "a throat swab"), ("urine dipstick", "a urine dipstick"), ("chest X-ray", "a chest X-ray")),
    ),
    "cardiology": _Lexicon(
        "cardiologist", "a cardiologist",
        ("chest pain", "racing heart", "blood pressure", "palpitations", "shortness of breath"),
        ("atrial fibrillation", "hypertension", "pericarditis", "stable angina", "tachycardia", "hyperlipidemia", "cardiomyopathy"),
        (("metoprolol", "mg", ("25", "50", "100")), ("amlodipine", "mg", ("5", "10")), ("atorvastatin", "mg", ("20", "40", "80")),
         ("lisinopril", "mg", ("10", "20", "40")), ("apixaban", "mg", ("2.5", "5"))),
        (("echocardiogram", "an echocardiogram"), ("Holter monitor", "a Holter monitor"), ("lipid panel", "a lipid panel"),
         ("ECG", "an ECG"), ("stress test", "a stress test")),
    ),
    "endocrinology": _Lexicon(
        "endocrinologist", "an endocrinologist",
        ("blood sugar", "thyroid", "weight gain", "constant tiredness", "diabetes"),
        ("type 2 diabetes", "hypothyroidism", "hyperglycemia", "thyroiditis", "hypoglycemia", "PCOS"),
        (("metformin", "mg", ("500", "850", "1000")), ("levothyroxine", "mcg", ("50", "75", "100")),
         ("semaglutide", "mg", ("0.25", "0.5", "1")), ("empagliflozin", "mg", ("10", "25")),
         ("insulin glargine", "units", ("10", "20"))),
        (("HbA1c", "an HbA1c"), ("TSH panel", "a TSH panel"), ("glucose test", "a glucose test")),
    ),
    "gastroenterology": _Lexicon(
        "gastroenterologist", "a gastroenterologist",
        ("stomach pain", "heartburn", "bloating", "bowel problems", "acid reflux"),
        ("GERD", "gastritis", "IBS", "ulcerative colitis", "diverticulitis", "cholecystitis"),
        (("omeprazole", "mg", ("20", "40")), ("pantoprazole", "mg", ("20", "40")), ("mesalamine", "mg", ("800", "1200")),
         ("mebeverine", "mg", ("135", "200")), ("famotidine", "mg", ("20", "40"))),
        (("colonoscopy", "a colonoscopy"), ("endoscopy", "an endoscopy"), ("calprotectin test", "a calprotectin test"),
         ("H. pylori breath test", "an H. pylori breath test")),
    ),
    "neurology": _Lexicon(
        "neurologist", "a neurologist",
        ("migraines", "numb hands", "dizzy spells", "memory", "tremor"),
        ("migraine with aura", "peripheral neuropathy", "epilepsy", "trigeminal neuralgia", "vestibular neuritis", "multiple sclerosis"),
        (("sumatriptan", "mg", ("50", "100")), ("topiramate", "mg", ("25", "50")), ("gabapentin", "mg", ("300", "600")),
         ("levetiracetam", "mg", ("250", "500")), ("propranolol", "mg", ("40", "80")), ("amitriptyline", "mg", ("10", "25"))),
        (("MRI", "an MRI"), ("EEG", "an EEG"), ("EMG", "an EMG")),
    ),
    "orthopedics": _Lexicon(
        "orthopedic surgeon", "an orthopedic surgeon",
        ("knee", "sore shoulder", "back pain", "wrist", "stiff joints"),
        ("osteoarthritis", "tendinitis", "bursitis", "meniscal tear", "lumbar radiculopathy", "arthralgia"),
        (("naproxen", "mg", ("250", "500")), ("diclofenac", "mg", ("50", "75")), ("celecoxib", "mg", ("100", "200")),
         ("tramadol", "mg", ("50", "100")), ("meloxicam", "mg", ("7.5", "15"))),
        (("X-ray", "an X-ray"), ("MRI", "an MRI"), ("arthroscopy", "an arthroscopy")),
    ),
    "oncology": _Lexicon(
        "oncologist", "an oncologist",
        ("breast lump", "tiredness from chemo", "nausea after chemo", "mouth sores", "hair loss"),
        ("stage II carcinoma", "lymphoma", "neutropenia", "metastatic disease", "leukemia", "chemo-induced anemia"),
        (("tamoxifen", "mg", ("10", "20")), ("ondansetron", "mg", ("4", "8")), ("dexamethasone", "mg", ("4", "8")),
         ("capecitabine", "mg", ("500", "1000")), ("letrozole", "mg", ("2.5", "5"))),
        (("PET-CT", "a PET-CT"), ("biopsy", "a biopsy"), ("CBC", "a CBC"), ("CA-125 test", "a CA-125 test")),
    ),
}

_SIDE_EFFECTS = (
    "gastritis", "tachycardia", "hyponatremia", "myalgia", "arthralgia", "contact dermatitis", "orthostatic hypotension",
    "dyspepsia", "hyperkalemia", "neutropenia", "cephalalgia", "bradycardia", "stomatitis", "hypoglycemia",
    "peripheral neuropathy", "pancreatitis",
)
_PLAIN_SIDE_EFFECTS = (
    "an upset stomach", "a dry mouth", "headaches", "dizziness", "trouble sleeping", "feeling sick", "tiredness",
    "sore muscles", "itchy skin", "a racing heart",
)
_FREQ = ("twice daily", "once daily", "at night", "three times a day", "BID", "every 8 hours", "PRN", "with meals")

_OPENER = {
    "plain": (
        "Used the app for a video call about my {pcond}.",
        "Booked an evening appointment with {a_doc} about my {pcond}.",
        "Second time using this service, this time for my {pcond}.",
        "I had a phone consult for my {pcond} last week.",
        "Saw {a_doc} through the app after a month of dealing with my {pcond}.",
        "Tried the online {doc} for my {pcond} instead of going to the clinic.",
        "Update after my consult about my {pcond}.",
        "My partner booked this for me because of my {pcond}.",
        "First online appointment ever, for my {pcond}.",
        "Had a chat with {a_doc} on my lunch break about my {pcond}.",
        "Quick review of my video visit about my {pcond}.",
        "Signed up last month and booked a call for my {pcond}.",
    ),
    "jargon": (
        "Teleconsult with {a_doc} re: {jcond}.",
        "Follow-up consult for {jcond}, currently on {med} {freq}.",
        "Video visit with {a_doc} to review my {test} results.",
        "Background: {jcond}, diagnosed last year, on {med}.",
        "Booked {a_doc} consult for suspected {jcond}.",
        "Med review for {jcond} via the app.",
        "Specialist consult for {jcond} after an abnormal {test}.",
        "Virtual follow-up for {jcond} with {a_doc}.",
        "Hx of {jcond}, on {med} {freq}, booked a review.",
        "Consulted {a_doc} about {jcond} and my latest {test}.",
    ),
}

# Core sentence by polarity, register and negation.
_CORE = {
    (_POS, "plain", False): (
        "The doctor listened carefully and my {pcond} got better within days.",
        "Really helpful consultation, the {doc} explained everything in plain words.",
        "Got a prescription in ten minutes and felt better by the weekend.",
        "The {doc} was kind, patient and took my {pcond} seriously.",
        "Brilliant service, I was seen the same afternoon.",
        "Finally someone who actually listened to me about my {pcond}.",
        "Super quick and easy, the {doc} knew exactly what to do.",
        "The {doc} was lovely and gave me a clear plan for my {pcond}.",
        "Such a relief to talk to a real doctor from my sofa!",
        "Five minutes in the queue and the {doc} was warm and thorough.",
        "The advice worked and my {pcond} {is} much better now.",
        "Excellent experience, clear explanations and a fast follow-up.",
        "Who knew a video call could be this thorough?",
        "The {doc} was SO kind and really put my mind at ease.",
    ),
    (_POS, "plain", True): (
        "My {pcond} {is} no longer keeping me up at night.",
        "I never felt rushed and the {doc} answered every question.",
        "Didn't have to wait at all and the {doc} was great.",
        "No more trips to the clinic for my {pcond}, this app is a lifesaver.",
        "Haven't had a single bad day with my {pcond} since the consult.",
        "Couldn't be happier with how the {doc} handled my {pcond}.",
        "Never thought an online doctor could be this thorough.",
        "Not a single complaint, the {doc} was excellent.",
        "I didn't feel judged at all, the {doc} was wonderful.",
        "My {pcond} {is} not bothering me anymore, thank you!",
        "There was no waiting around and the advice was spot on.",
    ),
    (_NEG, "plain", False): (
        "The doctor glanced at me once and rushed through the call.",
        "Waited two hours and the {doc} spent three minutes on my {pcond}.",
        "Terrible experience, the advice was vague and useless.",
        "The {doc} seemed distracted and cut me off mid sentence.",
        "My {pcond} got worse after following their advice.",
        "Paid for a consult and got a generic copy-paste answer.",
        "The call dropped twice and I had to explain my {pcond} all over again.",
        "Awful, the {doc} was rude and dismissive about my {pcond}.",
        "Felt like a conveyor belt, in and out in four minutes.",
        "The prescription went to the wrong pharmacy and my {pcond} {is} still bad.",
        "Complete waste of money and time.",
        "The {doc} kept interrupting and told me to just drink more water.",
        "The {doc} was condescending and made me feel stupid for asking.",
        "Horrible service, I felt completely ignored.",
    ),
    (_NEG, "plain", True): (
        "The doctor did not listen to a word I said about my {pcond}.",
        "Never got the follow-up call they promised.",
        "My prescription wasn't sent to the pharmacy for three days.",
        "Nobody explained what was causing my {pcond}.",
        "I still don't know what is wrong with me after two consults.",
        "The {doc} didn't even ask about my history.",
        "No one answered my messages for a week.",
        "The advice did nothing for my {pcond}.",
        "Not worth the money, my {pcond} {is} exactly the same.",
        "The {doc} couldn't be bothered to look at the photos I uploaded.",
        "I won't be using this app again.",
        "My {pcond} {is} no better and nobody seems to care.",
    ),
    (_NEU, "plain", False): (
        "The consultation was okay, fairly standard advice for my {pcond}.",
        "Average experience, the {doc} was polite and gave the usual advice.",
        "It did the job, a quick chat and a prescription.",
        "Spoke to {a_doc} for ten minutes about my {pcond}.",
        "Pretty standard video call, about what I expected.",
        "The {doc} suggested some tests for my {pcond} and a follow-up in a month.",
        "Fine for simple things like my {pcond}, I guess.",
        "Reasonable service, similar to seeing my usual doctor.",
        "Too early to say whether the plan for my {pcond} is working.",
        "Middle of the road, the call was short and to the point.",
        "The {doc} gave me a leaflet and some general advice about my {pcond}.",
        "An ordinary appointment, in and out in fifteen minutes.",
    ),
    (_NEU, "plain", True): (
        "Not sure whether the advice for my {pcond} is working so far.",
        "I didn't notice much difference either way.",
        "Can't say it was good or bad, just a normal appointment.",
        "Nothing special, the {doc} gave the usual advice for my {pcond}.",
        "Not the best, not the worst, an ordinary consult.",
        "Haven't decided whether I will use it again.",
        "Don't have strong feelings, the {doc} did what was needed.",
        "No big surprises, the {doc} said to keep an eye on my {pcond}.",
        "I'm not convinced either way about the plan for my {pcond}.",
    ),
    (_POS, "jargon", False): (
        "Prescribed {med} {freq} for {jcond}; symptoms resolved within a week.",
        "The {doc} reviewed my {test} and adjusted {drug} to {up}, and my {jcond} is finally controlled.",
        "Started on {med} for {jcond} and my numbers improved at the three month review.",
        "Excellent workup: {a_test}, a clear differential and a plan for {jcond}.",
        "Titrated {drug} to {up} {freq} and the {sfx} cleared up completely.",
        "Very thorough {doc}, reconciled all my meds and switched me to {med}.",
        "Diagnosed {jcond} on the first call and started {med}, feeling great.",
        "{jcond} is in remission after three months of {med} {freq}.",
        "The {doc} caught the {jcond} early from my {test} results.",
        "Switched from {drug} to {med} {freq} and the {sfx} settled within days.",
        "Finally a {doc} who explained {jcond} and the {drug} dosing properly!",
        "Great call: {jcond} confirmed on {a_test} and {med} started the same day.",
    ),
    (_POS, "jargon", True): (
        "My {jcond} is no longer flaring since starting {med} {freq}.",
        "Haven't had any {sfx} since the {doc} changed {drug} to {up}.",
        "No recurrence of {jcond} on {med} {freq}.",
        "Didn't expect the {doc} to spot the {jcond} on my {test}, impressive.",
        "Never had a {doc} explain {jcond} and {drug} dosing this clearly.",
        "Not a single episode of {sfx} since switching to {med}.",
        "Haven't needed a rescue dose since starting {med} for {jcond}.",
        "The {sfx} from my old meds is not an issue anymore on {med}.",
        "No more {sfx} and my {jcond} is stable on {med}.",
    ),
    (_NEG, "jargon", False): (
        "Prescribed {med} for {jcond}; developed {sfx} and {sfx2} within days.",
        "The {doc} doubled {drug} to {up} over a two minute call and I ended up with {sfx}.",
        "Told it was {jcond}, and {a_test} later showed something else entirely.",
        "Put on {med} {freq} and my {jcond} flared worse than before.",
        "Waited three weeks for {test} results while my {jcond} got worse.",
        "Started {med} with zero monitoring and got {sfx}.",
        "The {doc} ignored my history of {sfx} and prescribed {med} anyway.",
        "{med} {freq} caused {sfx}, and the {doc} just told me to push through.",
        "Dose jumped from {med} to {up} overnight and the {sfx} was brutal.",
        "Awful consult: the {doc} misread my {test} and started {med} for {jcond}.",
        "Developed {sfx} on {med} and the app kept cancelling my follow-up.",
    ),
    (_NEG, "jargon", True): (
        "The {doc} did not order {a_test} despite obvious {jcond} symptoms.",
        "{med} did nothing for my {jcond}, and now I have {sfx}.",
        "Never checked my renal function before starting {med}.",
        "Couldn't get anyone to adjust {drug} after I developed {sfx}.",
        "No follow-up after my {test}, and my {jcond} is untreated.",
        "The {doc} wasn't aware that {drug} interacts with my other meds; got {sfx}.",
        "My {jcond} hasn't improved at all on {med} {freq}.",
        "Nobody reviewed my {test} before putting me on {med}.",
        "The {doc} didn't mention {sfx} as a side effect of {med}.",
    ),
    (_NEU, "jargon", False): (
        "Consult for {jcond}; continued {med} {freq} and booked {a_test}.",
        "The {doc} reviewed my labs and kept me on {med}.",
        "Standard review of {jcond}, repeat {test} in three months.",
        "Switched from {drug} to {med}, too early to judge.",
        "Discussed options for {jcond}; plan is {med} {freq} and reassess.",
        "Routine follow-up, {med} unchanged, {test} ordered.",
        "Got a referral for {a_test} and a script for {med}.",
        "The {doc} suspects {jcond} and wants {a_test} first.",
        "Reviewed {jcond} management; dose of {drug} kept at {up}.",
    ),
    (_NEU, "jargon", True): (
        "Not sure if {med} is helping my {jcond} so far.",
        "No change to my {drug}, {test} still pending.",
        "Haven't noticed any {sfx} on {med}, and no real improvement either.",
        "Didn't change the plan for {jcond}, just repeat {test}.",
        "No new findings on the {test}; staying on {med}.",
        "Can't tell so far whether {med} {freq} does anything for my {jcond}.",
        "Nothing new from the {doc}, {med} continues for {jcond}.",
    ),
}

# Sarcasm: positive-sounding words, negative meaning; every one carries a cue.
_SARCASM = {
    "plain": (
        "Oh great, another forty minutes in the virtual waiting room.",
        'Yeah right, a "same day" appointment that took four days.',
        "Just what I needed, a doctor who read from a script for five minutes.",
        'Thanks a lot for the "consultation" that lasted two minutes.',
        "Love waiting on hold for an hour just to be told to call back tomorrow.",
        "Oh great, the video froze right when the {doc} started talking.",
        'Wonderful "care" from a {doc} who typed the whole time. Just what I needed.',
        "Yeah right, super helpful advice to rest and drink fluids for my {pcond}.",
        'Paid extra for a "specialist" and got a chatbot. Thanks a lot.',
        "Love waiting three days for a reply about my {pcond}. Brilliant.",
        'Oh great, the "priority" queue. Truly outstanding service.',
        "Fantastic, just what I needed: my {pcond} and a crashing app.",
    ),
    "jargon": (
        "Oh great, started {med} and now I have {sfx}. Just what I needed.",
        'Yeah right, a "routine" {test} that took three weeks to book.',
        "Thanks a lot for doubling my {drug} to {up} over a chat message.",
        "Love waiting six weeks for {test} results while my {jcond} flares.",
        'Brilliant "medication review": {med} {freq} and a side of {sfx}.',
        "Oh great, {sfx} on {med}. Exactly what my {jcond} was missing.",
        'Yeah right, "evidence-based" care: {med} for {jcond} and zero follow-up.',
        "Just what I needed, {sfx2} on top of my {jcond}. Superb prescribing.",
        'Thanks a lot for the "thorough" review of my {test}, all thirty seconds of it.',
    ),
}

# Mixed sentiment: a plainly positive and a plainly negative word around a contrast;
# the clause after the contrast carries the label.
_MIXED = {
    (_POS, "plain"): (
        "The side effects were awful but it honestly saved my life.",
        "The app is terrible to navigate but the {doc} was excellent with my {pcond}.",
        "Waiting times are bad, but the care itself was great.",
        "It was expensive and the first call was awful, but the advice really helped.",
        "The first call was bad, but the follow-up was excellent and my {pcond} {is} better.",
        "Although the video quality was horrible, the {doc} was great and sorted out my {pcond}.",
        "I was disappointed at first, but the advice really worked.",
    ),
    (_NEG, "plain"): (
        "The {doc} was friendly and the app looks good, but the advice was useless.",
        "Good interface, but the consultation was rushed and terrible.",
        "Booking was great, but my {pcond} {is} worse than before.",
        "The nurse was lovely and helpful, but the {doc} was dismissive and the call was awful.",
        "Although the price is good, the service is horrible.",
        "It started well and I felt better for a day, but the follow-up was a disaster and I am worse now.",
        "The {doc} seemed to care and I was happy at first, but my {pcond} was brushed off and I left disappointed.",
    ),
    (_NEU, "plain"): (
        "Some parts were good, but others were bad, so it evens out.",
        "The booking was great but the call itself was pretty bad, so average overall.",
        "The {doc} was good, though the wait was bad and the advice generic.",
        "Helpful service but the sound quality was terrible, so a mixed bag.",
        "Helpful for my {pcond} in some ways, though the price is bad.",
        "The app works fine, however the wait is sometimes awful.",
    ),
    (_POS, "jargon"): (
        "{med} gave me awful {sfx} for a week but my {jcond} is finally better.",
        "The {test} took a terrible three weeks to book, but the {doc} got the {jcond} diagnosis right and it helped.",
        "Titration to {up} was rough and the {sfx} was bad, though my {jcond} is much better now.",
        "Although {drug} caused some horrible {sfx}, it saved me from a hospital admission.",
        "The {sfx} was awful, but {med} {freq} worked and my {jcond} improved.",
    ),
    (_NEG, "jargon"): (
        "The {doc} was good at explaining, but {med} gave me {sfx} and made my {jcond} worse.",
        "The {test} was quick and good, but the results for my {jcond} sat unread for weeks and things got worse.",
        "Although {drug} helped at first, the {sfx} became unbearable at {up}.",
        "Good bedside manner, but prescribing {med} with my history of {sfx} was a terrible decision.",
        "The app is great to use, however my {jcond} was mismanaged and is worse than ever.",
    ),
    (_NEU, "jargon"): (
        "{med} helped a little with {jcond} but the {sfx} is bad, so it is a wash.",
        "The {test} was good, though the plan for {jcond} is still vague and the wait was bad.",
        "Some improvement in {jcond} on {med}, however the {sfx} is a bad trade-off.",
        "Although the {doc} was thorough and good, the {sfx} on {med} {freq} is awful, so it evens out.",
    ),
}

# Detail sentence; every jargon detail names a dose so the register is recoverable.
_DETAIL = {
    (_POS, "plain"): (
        "She explained the side effects in simple terms.",
        "The follow-up message the next day was a nice touch.",
        "The prescription was at my pharmacy within the hour.",
        "I felt listened to and taken seriously.",
        "They even sent a written summary after the call.",
        "Booking took less than a minute.",
        "Everything was explained clearly and kindly.",
        "Much easier than taking a day off work.",
        "She checked in again a week later to see how I was doing.",
        "The {doc} warned me about {psfx} and how to handle it.",
    ),
    (_NEG, "plain"): (
        "The booking system crashed twice before the call.",
        "I had to repeat my whole history to three different people.",
        "The video kept freezing and the sound was terrible.",
        "They charged me twice for the same appointment.",
        "The summary they sent was full of mistakes.",
        "Support took five days to reply to my email.",
        "The {doc} kept looking at another screen.",
        "The new pills gave me {psfx} and the chat support was useless.",
        "The refund process is a joke.",
        "I ended up at urgent care the next day anyway.",
    ),
    (_NEU, "plain"): (
        "The call lasted about fifteen minutes.",
        "They sent a short summary afterwards.",
        "The price is about the same as a clinic visit.",
        "I got a reminder message the day before.",
        "They suggested I book again if things change.",
        "The appointment was at 7pm on a weekday.",
        "The {doc} mentioned {psfx} as a possible side effect.",
        "The app asked a few questions before the call.",
    ),
    (_POS, "jargon"): (
        "Sent the script for {med} {freq} straight to my pharmacy.",
        "They scheduled {a_test} and explained why {med} was the right choice.",
        "Clear plan: {med} {freq}, recheck labs in six weeks.",
        "The {doc} flagged an interaction and switched me to {med}.",
        "Labs normalised on {med} within a month.",
        "Tolerating {med} {freq} well, minimal {sfx}.",
    ),
    (_NEG, "jargon"): (
        "Got {sfx} on {med} {freq} and had to stop it.",
        "They upped me to {up} {drug} with zero explanation.",
        "The script said {med} {freq} and the pharmacy had to call them to fix it.",
        "Ended up in urgent care with {sfx} after starting {med}.",
        "Still on {med} {freq} with persistent {sfx}.",
        "The pharmacy flagged that {med} clashes with my {sfx2} meds.",
    ),
    (_NEU, "jargon"): (
        "Current regimen: {med} {freq}.",
        "Repeat {test} booked, staying on {med} for now.",
        "Plan is {med} {freq} with review in eight weeks.",
        "They noted mild {sfx} on {med} and kept the dose the same.",
        "Dose options were {med} or {up}; we went with the lower one.",
    ),
}

_CLOSER = {
    _POS: (
        "Would recommend!", "Five stars.", "Highly recommend this app.", "Will definitely use again!", "AMAZING service.",
        "Thank you so much!", "10/10, would book again.", "So glad I found this app!",
        "Honestly the BEST doctor I have seen in years.", "Great app, great doctors!",
        "Where has this app been all my life?", "Very happy with it.",
    ),
    _NEG: (
        "Avoid.", "One star.", "Deleting the app.", "WORST experience ever.", "Save your money.",
        "Why is it so hard to get a proper answer?", "Is anyone actually reading these reviews?", "Absolutely USELESS.",
        "Switching to another provider.", "Really disappointed!", "What a waste of time!", "What am I even paying for?",
    ),
    _NEU: (
        "Three stars.", "It's fine.", "Okay for minor stuff.", "Might use it again.", "Does the job.",
        "We'll see how it goes.", "Is it worth the price? Hard to say.", "Decent enough.", "It's OK.",
        "Three out of five.",
    ),
}
_SARCASTIC_CLOSER = (
    "Five stars, obviously.", "Truly world-class care.", "Brilliant. Just brilliant.", "Ten out of ten, would suffer again.",
    "Great job, really.", "What a treat.",
)

_N_CASES = 8  # cases (condition, drug, doses, test, ...) per specialty
_LIBRARY_SEED = 1729  # the fragment library is a constant, independent of the user's seed

# Probabilities of the optional slots.
_P_OPENER = 0.8
_P_SECOND = 0.3
_P_CLOSER = 0.85
_MAX_WORDS = 80


@dataclass(frozen=True)
class _Pool:
    """Fragments of one slot, grouped by key.

    Group ``g`` holds ``n_templates[g]`` strings starting at ``offsets[g]``; the
    ``t``-th is template ``t`` filled with the group's case.
    """

    strings: pa.Array
    offsets: np.ndarray  # int64, (n_groups,)
    n_templates: np.ndarray  # int64, (n_groups,)


def _is_plural(noun: str) -> bool:
    return noun.endswith("s") and not noun.endswith(("ness", "loss", "diabetes"))


def _cases(lex: _Lexicon, rng: np.random.Generator, n_cases: int) -> list[dict]:
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
            "freq": _FREQ[rng.integers(len(_FREQ))], "test": test, "a_test": a_test,
            "sfx": _SIDE_EFFECTS[rng.integers(len(_SIDE_EFFECTS))],
            "psfx": _PLAIN_SIDE_EFFECTS[rng.integers(len(_PLAIN_SIDE_EFFECTS))],
        })
    return out


@lru_cache(maxsize=1)
def _contexts() -> tuple[dict, ...]:
    """All cases, specialty-major: context ``s * _N_CASES + c``."""
    rng = np.random.default_rng(_LIBRARY_SEED)
    return tuple(case for spec in METADATA_VALUES["specialty"] for case in _cases(_LEXICA[spec], rng, _N_CASES))


def _fill(template: str, case: dict, rng: np.random.Generator) -> str:
    """``template`` filled with ``case`` (and a second side effect), capitalised."""
    if not template:
        return ""
    others = [x for x in _SIDE_EFFECTS if x != case["sfx"]]
    text = template.format(**case, sfx2=others[rng.integers(len(others))])
    return text[:1].upper() + text[1:]


def _make_pool(groups: Sequence[Sequence[str]], contexts: Sequence[dict], lead: str) -> _Pool:
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
    _Pool
        ``C * G`` groups; group ``c * G + g`` is ``groups[g]`` filled with context ``c``.
    """
    rng = np.random.default_rng(_LIBRARY_SEED)
    strings, offsets, n_templates = [], [], []
    for case in contexts:
        for templates in groups:
            offsets.append(len(strings))
            n_templates.append(len(templates))
            for tpl in templates:
                text = _fill(tpl, case, rng)
                strings.append(lead + text if text else "")
    return _Pool(pa.array(strings, pa.string()), np.asarray(offsets, np.int64), np.asarray(n_templates, np.int64))


def _draw(pool: _Pool, group: np.ndarray, rng: np.random.Generator,
          avoid: np.ndarray | None = None) -> tuple[pa.Array, np.ndarray]:
    """One fragment per row from its group.

    Parameters
    ----------
    pool : _Pool
    group : ndarray of int, shape (n,)
        Group of each row.
    rng : Generator
    avoid : ndarray of int, shape (n,), optional
        A template index per row to avoid (-1: none), so two sentences of one review
        never come from the same template.

    Returns
    -------
    fragments : pyarrow string Array, shape (n,)
    template : ndarray of int, shape (n,)
        The template index drawn (within the group).
    """
    n_t = pool.n_templates[group]
    u = rng.random(group.size)
    t = (u * n_t).astype(np.int64)
    if avoid is not None:
        # Draw among the other n_t - 1 templates by skipping over the avoided one.
        t_other = (u * (n_t - 1)).astype(np.int64)
        t = np.where(avoid >= 0, t_other + (t_other >= avoid), t)
    return pool.strings.take(pa.array(pool.offsets[group] + t)), t


@lru_cache(maxsize=1)
def _library() -> dict[str, _Pool]:
    """The fragment pools, built once per process (a constant, see ``_LIBRARY_SEED``)."""
    contexts = _contexts()
    regs = ("plain", "jargon")
    pols = (_NEG, _NEU, _POS)
    empty = ("",)
    # opener groups: (register, present)
    opener = [tpl for r in regs for tpl in (empty, _OPENER[r])]
    # s1 groups: (polarity, register, negated, sarcastic)
    s1 = [(_SARCASM[r] if sarc else _CORE[(p, r, bool(neg))])
          for p in pols for r in regs for neg in (0, 1) for sarc in (0, 1)]
    # s2 groups: (polarity, register, variant): empty, negated negative core, plain core
    s2 = [v for p in pols for r in regs for v in (empty, _CORE[(_NEG, r, True)], _CORE[(p, r, False)])]
    # s3 groups: (polarity, register, mixed)
    s3 = [tpl for p in pols for r in regs for tpl in (empty, _MIXED[(p, r)])]
    detail = [_DETAIL[(p, r)] for p in pols for r in regs]
    closer = [tpl for p in pols for sarc in (0, 1)
              for tpl in (empty, (_CLOSER[p] + _SARCASTIC_CLOSER) if sarc else _CLOSER[p])]
    return {
        "opener": _make_pool(opener, contexts, ""),
        "s1": _make_pool(s1, contexts, " "),
        "s2": _make_pool(s2, contexts, " "),
        "s3": _make_pool(s3, contexts, " "),
        "detail": _make_pool(detail, contexts, " "),
        "closer": _make_pool(closer, contexts[:1], " "),  # closers name no case
    }


def _compose_texts(spec: np.ndarray, pol: np.ndarray, reg: np.ndarray, negated: np.ndarray,
                   sarcastic: np.ndarray, mixed: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Assemble one review per row from the fragment library.

    Parameters
    ----------
    spec, pol, reg : ndarray of int, shape (n,)
        Specialty code, polarity (0 negative, 1 neutral, 2 positive), register
        (0 plain, 1 jargon).
    negated, sarcastic, mixed : ndarray of bool, shape (n,)
    rng : Generator

    Returns
    -------
    pyarrow string Array, shape (n,)
        ``opener? s1 s2? s3? detail closer?``, single spaces between sentences.
    """
    lib = _library()
    n = spec.size
    neg, sarc, mix = negated.astype(np.int64), sarcastic.astype(np.int64), mixed.astype(np.int64)
    ctx = spec * _N_CASES + rng.integers(0, _N_CASES, n)  # one case per review
    present = rng.random((3, n))
    # Second sentence: a sarcastic review that is also negated carries its negation
    # here (the sarcastic first sentence has none); otherwise an optional extra
    # non-negated core sentence of the same polarity, unless the review already has a
    # mixed sentence (which would push it past ~80 words).
    variant = np.where(sarc & neg, 1, np.where((present[1] < _P_SECOND) & (mix == 0), 2, 0))
    # A review with neither a second nor a mixed sentence always has an opener, so
    # that none falls under 15 words; one with both never has, so none passes 80.
    short, long_ = (variant == 0) & (mix == 0), (variant != 0) & (mix == 1)
    has_opener = (((present[0] < _P_OPENER) & ~long_) | short).astype(np.int64)
    has_closer = (present[2] < _P_CLOSER).astype(np.int64)

    opener, _ = _draw(lib["opener"], (ctx * 2 + reg) * 2 + has_opener, rng)
    s1, t1 = _draw(lib["s1"], (((ctx * 3 + pol) * 2 + reg) * 2 + neg) * 2 + sarc, rng)
    # s2 variant 2 comes from the same templates as s1 when s1 is a plain core sentence.
    same = (variant == 2) & (neg == 0) & (sarc == 0)
    s2, _ = _draw(lib["s2"], ((ctx * 3 + pol) * 2 + reg) * 3 + variant, rng, avoid=np.where(same, t1, -1))
    s3, _ = _draw(lib["s3"], ((ctx * 3 + pol) * 2 + reg) * 2 + mix, rng)
    detail, _ = _draw(lib["detail"], (ctx * 3 + pol) * 2 + reg, rng)
    closer, _ = _draw(lib["closer"], (pol * 2 + sarc) * 2 + has_closer, rng)
    text = pc.binary_join_element_wise(opener, s1, s2, s3, detail, closer, "")
    # The rare review past _MAX_WORDS (long fills) loses its opener.
    too_long = pc.greater(pc.count_substring(text, " "), _MAX_WORDS - 1)
    if pc.any(too_long).as_py():
        text = pc.if_else(too_long, pc.binary_join_element_wise(s1, s2, s3, detail, closer, ""), text)
    # Without an opener the text starts with the lead space of s1.
    return pc.utf8_ltrim_whitespace(text)


# ------------------------------------------------------------------- attributes


def _polarity(n_classes: int) -> np.ndarray:
    """Polarity code of each class: first negative, last positive, others neutral."""
    pol = np.full(n_classes, _NEU, np.int64)
    pol[0], pol[-1] = _NEG, _POS
    return pol


def _attribute_tables() -> dict[str, np.ndarray]:
    """Per attribute, value probabilities by polarity, shape (3, n_values)."""
    tables = {c: np.tile(np.asarray(METADATA_SHARES[c], float), (3, 1)) for c in METADATA_COLUMNS}
    for c, true_rate in _LATENT_TRUE_RATE.items():
        t = np.asarray(true_rate, float)
        tables[c] = np.column_stack([1 - t, t])
    return tables


def _sample_codes(table: np.ndarray, pol: np.ndarray, rng: np.random.Generator,
                  exclude: int | None = None) -> np.ndarray:
    """Draw one value code per row from its polarity's row of ``table``.

    Parameters
    ----------
    table : ndarray, shape (3, V)
    pol : ndarray of int, shape (n,)
    rng : Generator
    exclude : int, optional
        A value that must not be drawn (its probability is set to zero).

    Returns
    -------
    ndarray of int64, shape (n,)
        Codes; -1 where the polarity's row has no mass left.
    """
    u = rng.random(pol.size)
    codes = np.full(pol.size, -1, np.int64)
    for p in range(table.shape[0]):
        rows = pol == p
        probs = table[p].copy()
        if exclude is not None:
            probs[exclude] = 0.0
        total = probs.sum()
        if not rows.any() or total <= 0:
            continue
        cdf = np.cumsum(probs / total)
        cdf[-1] = 1.0
        codes[rows] = np.minimum(np.searchsorted(cdf, u[rows], side="right"), len(cdf) - 1)
    return codes


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _parse_predicate(predicate: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """``{column: value}`` -> sorted ``((column, value code), ...)``; validates both."""
    if not predicate:
        raise ValueError("a planted slice needs a non-empty predicate")
    out = []
    for col, value in predicate.items():
        if col in METADATA_VALUES:
            values = METADATA_VALUES[col]
            if str(value) not in values:
                raise ValueError(f"unknown value {value!r} for {col!r}; expected one of {values}")
            out.append((col, values.index(str(value))))
        elif col == "register":
            if str(value) not in LATENT_VALUES[col]:
                raise ValueError(f"unknown value {value!r} for 'register'; expected 'plain' or 'jargon'")
            out.append((col, LATENT_VALUES[col].index(str(value))))
        elif col in LATENT_VALUES:
            flag = value if isinstance(value, (bool, np.bool_)) else _BOOL_WORDS.get(str(value).strip().lower())
            if flag is None:
                raise ValueError(f"value {value!r} for {col!r} is not a boolean")
            out.append((col, int(bool(flag))))
        else:
            known = METADATA_COLUMNS + tuple(LATENT_VALUES)
            raise ValueError(f"unknown predicate column {col!r}; expected one of {known}")
    return tuple(sorted(out))


def _predicate_json(parsed: tuple[tuple[str, int], ...]) -> dict:
    """Parsed predicate -> ``{column: value}`` with native JSON types."""
    out = {}
    for col, code in parsed:
        value = METADATA_VALUES[col][code] if col in METADATA_VALUES else LATENT_VALUES[col][code]
        out[col] = value if isinstance(value, (bool, str)) else str(value)
    return out


def _assignment_probabilities(parsed, shares, tables, class_pol, class_shares, weights=None) -> np.ndarray:
    """Probability that a row of each class is assigned to each slice, shape (K, m).

    A slice can only take rows whose polarity allows all its values (``sarcastic=True``
    takes negative rows only); to keep ``share`` of *all* rows its eligible rows are
    assigned with probability ``share * w_c / sum(eligible class shares * w)`` (``w``
    the slice's class weights, 1 by default).
    """
    m, k = len(parsed), len(class_pol)
    out = np.zeros((k, m))
    for j, pred in enumerate(parsed):
        eligible = np.ones(3, bool)
        for col, code in pred:
            eligible &= tables[col][:, code] > 0
        w = np.ones(k) if weights is None or weights[j] is None else np.asarray(weights[j], float)
        if w.shape != (k,) or (w < 0).any():
            raise ValueError(f"class_weights must be {k} non-negative numbers, got {weights[j]!r}")
        ok = eligible[class_pol] & (w > 0)
        p_eligible = float(np.sum(np.asarray(class_shares) * w * ok))
        if p_eligible <= 0:
            raise ValueError(f"planted slice {_predicate_json(pred)} cannot hold on any class")
        out[ok, j] = shares[j] * w[ok] / p_eligible
    if (out.sum(axis=1) > 1 + 1e-12).any():
        raise ValueError("planted slice shares too large: they must fit (disjointly) into the rows that can hold them")
    return out


def _check_not_nested(parsed) -> None:
    """Slices are disjoint, so no predicate may imply another (contain all its terms)."""
    for j, pj in enumerate(parsed):
        for k, pk in enumerate(parsed):
            if j != k and set(pk) <= set(pj):
                raise ValueError(
                    f"planted slice {_predicate_json(pj)} lies inside {_predicate_json(pk)}: slices must be disjoint")


def _repair(codes: dict, assign: np.ndarray, parsed, pol: np.ndarray, tables: dict,
            rng: np.random.Generator, max_rounds: int = 100) -> None:
    """Redraw attributes until each row matches exactly the slice it is assigned to.

    A row matching slice ``k`` by chance (unassigned, or assigned to another slice)
    gets one of ``k``'s attributes redrawn without ``k``'s value, choosing among the
    attributes its own slice does not pin. Modifies ``codes`` in place.

    Raises
    ------
    ValueError
        Some row cannot avoid a predicate, or the redraws do not settle.
    """
    m = len(parsed)
    pinned = {col: np.array([any(c == col for c, _ in parsed[j]) for j in range(m)] + [False])
              for col in tables}
    for _ in range(max_rounds):
        clean = True
        for k, pred in enumerate(parsed):
            match = np.ones(assign.size, bool)
            for col, code in pred:
                match &= codes[col] == code
            rows = np.flatnonzero(match & (assign != k))
            if rows.size == 0:
                continue
            clean = False
            own = np.where(assign[rows] >= 0, assign[rows], m)  # m: no slice
            usable = np.empty((rows.size, len(pred)), bool)
            for i, (col, code) in enumerate(pred):
                usable[:, i] = ~pinned[col][own] & (tables[col][pol[rows], code] < 1)
            if not usable.any(axis=1).all():
                raise ValueError("planted slices cannot be made disjoint: some rows cannot avoid a predicate "
                                 "(e.g. sarcastic=false holds on every non-negative row)")
            score = np.where(usable, rng.random(usable.shape), -1.0)
            pick = score.argmax(axis=1)
            for i, (col, code) in enumerate(pred):
                sel = rows[pick == i]
                if sel.size:
                    codes[col][sel] = _sample_codes(tables[col], pol[sel], rng, exclude=code)
        if clean:
            return
    raise ValueError("planted slices did not become disjoint; simplify the predicates")


# ---------------------------------------------------------------- simulated model


def _draw_confidence(n: int, k: int, mean_confidence: float, concentration: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Confidence per row: a Beta scaled onto (1/K, 1) with the given mean, shape (n,)."""
    lo = 1.0 / k
    m = (mean_confidence - lo) / (1.0 - lo)
    x = rng.beta(m * concentration, (1 - m) * concentration, n)
    return _quantise_confidence(lo + (1 - lo) * x, k)


def _quantise_confidence(c: np.ndarray, k: int) -> np.ndarray:
    """Clip into ``[1/K + margin, 1 - 1e-4]`` and round to 1e-6, shape as ``c``."""
    c = np.clip(c, 1.0 / k + _C_MARGIN, _C_MAX)
    return np.rint(c * _MICRO) / _MICRO


def _probabilities_micro(pred: np.ndarray, conf: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Class probabilities in micro-units with ``pred`` the strict argmax at ``conf``.

    The remaining mass ``1 - conf`` is split over the other classes with Dirichlet(1)
    weights, shrunk toward an even split where needed so that no other class reaches
    ``conf``; every class keeps at least 1e-6.

    Parameters
    ----------
    pred : ndarray of int, shape (n,)
    conf : ndarray of float, shape (n,)
        Multiples of 1e-6 in ``(1/K, 1)``.
    k : int
    rng : Generator

    Returns
    -------
    ndarray of int64, shape (n, K)
        Rows sum to exactly 10**6; ``out[i, pred[i]] == conf[i] * 10**6``.
    """
    n = pred.size
    c = np.rint(conf * _MICRO).astype(np.int64)
    rest = _MICRO - c
    out = np.empty((n, k), np.int64)
    others = (pred[:, None] + 1 + np.arange(k - 1)) % k  # (n, K-1)
    if k == 2:
        parts = rest[:, None]
    else:
        w = rng.standard_exponential((n, k - 1))
        w /= w.sum(axis=1, keepdims=True)
        free = rest - (k - 1)  # after the 1e-6 floor of each other class
        even = 1.0 / (k - 1)
        cap = (c - 1 - 1).astype(float)  # largest allowed part above the floor, strictly below c
        wmax = w.max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(wmax > even, 0.9 * (cap - free * even) / (free * (wmax - even)), 1.0)
        lam = np.clip(np.nan_to_num(lam, nan=1.0), 0.0, 1.0)[:, None]
        share = lam * w + (1 - lam) * even
        parts = np.floor(share * free[:, None]).astype(np.int64)
        parts[:, -1] = free - parts[:, :-1].sum(axis=1)
        parts += 1
        bad = parts.max(axis=1) >= c
        if bad.any():  # rounding at the edge: fall back to the even split
            q, r = np.divmod(rest[bad], k - 1)
            parts[bad] = q[:, None] + (np.arange(k - 1) < r[:, None])
    np.put_along_axis(out, others, parts, axis=1)
    out[np.arange(n), pred] = c
    assert (out.sum(axis=1) == _MICRO).all() and (out.min(axis=1) >= 0).all()
    assert (np.sort(out, axis=1)[:, -2] < c).all(), "predicted class must be the strict argmax"
    return out


def _simulate_model(label: np.ndarray, k: int, assign: np.ndarray, slices: Sequence[PlantedSlice],
                    mean_confidence: float, concentration: float, rng: np.random.Generator,
                    class_error_gaps=None, class_rng: np.random.Generator | None = None):
    """Predictions and confidences of the simulated model.

    ``class_error_gaps`` (length K) makes classes weak everywhere: a correct prediction
    of class ``c`` is flipped to wrong with probability ``gap_c / mean_confidence``
    (uniforms from ``class_rng``, so the other draws stay as without it).

    Returns
    -------
    pred : ndarray of int, shape (n,)
    conf : ndarray of float, shape (n,)
        Multiples of 1e-6.
    proba_micro : ndarray of int64, shape (n, K)
    """
    n = label.size
    conf = _draw_confidence(n, k, mean_confidence, concentration, rng)
    u = rng.random((2, n))
    correct = u[0] < conf  # calibrated: P(correct | c) = c
    if slices:
        # Flip correct predictions to wrong with q = gap / mean_confidence so that the
        # error rate becomes (1 - mc) + mc * q = (1 - mc) + gap in expectation.
        q = np.array([s.error_gap / mean_confidence for s in slices] + [0.0])
        correct &= ~(u[1] < q[assign])  # assign == -1 picks the trailing 0
        target = np.array([np.nan if s.confidence is None else s.confidence for s in slices] + [np.nan])[assign]
        override = ~correct & ~np.isnan(target)
        if override.any():
            noisy = target[override] + _SLICE_CONFIDENCE_SD * rng.standard_normal(int(override.sum()))
            conf[override] = _quantise_confidence(noisy, k)
    if class_error_gaps is not None:
        q_class = np.asarray(class_error_gaps, float) / mean_confidence
        correct &= ~(class_rng.random(n) < q_class[label])
    shift = rng.integers(1, k, n)  # a wrong prediction is one of the other classes, uniformly
    pred = np.where(correct, label, (label + shift) % k)
    proba = _probabilities_micro(pred, conf, k, rng)
    return pred, conf, proba


# -------------------------------------------------------------------------- generate


def _validate_args(n, mode, classes, class_shares, mean_confidence, concentration, planted):
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    k = len(classes)
    if k < 2 or len(set(classes)) != k:
        raise ValueError(f"need at least two distinct classes, got {classes!r}")
    if class_shares is None:
        class_shares = DEFAULT_CLASS_SHARES if k == 3 else DEFAULT_BINARY_SHARES if k == 2 else (1.0 / k,) * k
    shares = np.asarray(class_shares, float)
    if shares.shape != (k,) or (shares <= 0).any() or abs(shares.sum() - 1) > 1e-9:
        raise ValueError(f"class_shares must be {k} positive numbers summing to 1, got {class_shares!r}")
    if not 1.0 / k + 0.01 <= mean_confidence <= 0.99:
        raise ValueError(f"mean_confidence must lie in [1/K + 0.01, 0.99], got {mean_confidence!r}")
    if concentration <= 0:
        raise ValueError("confidence_concentration must be positive")
    if mode == "null" and planted:
        raise ValueError("mode='null' takes no planted slices; use mode='planted'")
    if mode == "planted" and not planted:
        raise ValueError("mode='planted' needs at least one PlantedSlice")
    for s in planted:
        if not 0 <= s.error_gap <= mean_confidence:
            raise ValueError(f"error_gap must lie in [0, mean_confidence], got {s.error_gap!r}")
        if not 0 < s.share < 1:
            raise ValueError(f"share must lie in (0, 1), got {s.share!r}")
        if s.confidence is not None and not 1.0 / k < s.confidence < 1:
            raise ValueError(f"slice confidence must lie in (1/K, 1), got {s.confidence!r}")
    return shares / shares.sum()


def _arrow_to_series(values: pa.Array, index: pd.Index) -> pd.Series:
    """A pyarrow string array as a pandas string Series (``str`` dtype on pandas 3)."""
    out = values.to_pandas()
    out.index = index
    return out


def _rate(mask: np.ndarray, wrong: np.ndarray) -> float | None:
    return float(wrong[mask].mean()) if mask.any() else None


def generate(
    n: int,
    *,
    seed: int,
    mode: str = "null",
    classes: Sequence[str] = DEFAULT_CLASSES,
    class_shares: Sequence[float] | None = None,
    mean_confidence: float = 0.85,
    confidence_concentration: float = 6.0,
    planted: Sequence[PlantedSlice] = (),
    class_error_gaps: Sequence[float] | None = None,
) -> SynthData:
    """Generate reviews, labels, simulated predictions and metadata.

    Parameters
    ----------
    n : int
        Rows.
    seed : int
        Seed of the single ``np.random.default_rng`` all randomness comes from; the
        same arguments give identical frames.
    mode : {"null", "planted"}
        ``"null"``: errors independent of everything, model calibrated. ``"planted"``:
        plus the ``planted`` slices.
    classes : sequence of str, length K >= 2
        Class names; the first reads negative, the last positive, any others neutral.
    class_shares : sequence of float, length K, optional
        Expected label shares; default (0.26, 0.09, 0.65) for K=3, (0.29, 0.71) for
        K=2, uniform otherwise.
    mean_confidence : float
        Expected confidence, hence expected accuracy outside planted slices.
    confidence_concentration : float
        ``a + b`` of the confidence Beta; larger is narrower around the mean.
    planted : sequence of PlantedSlice
        Slices to plant (``mode="planted"`` only); they are made disjoint, so no
        predicate may contain another.
    class_error_gaps : sequence of float, length K, optional
        Extra error rate of each true class everywhere (a weak class), in expectation
        ``1 - mean_confidence + gap`` outside planted slices; each in ``[0,
        mean_confidence]``. Allowed in both modes: weak classes alone are not a slice.

    Returns
    -------
    SynthData
        ``frame`` (n rows), ``latent`` (n rows) and ``truth``, a JSON-serialisable dict
        with ``seed, n, mode, classes, class_shares`` (requested),
        ``realised_class_shares, mean_confidence, base_error_rate`` (expected outside
        slices, ``1 - mean_confidence``), ``realised_error_rate`` (all rows),
        ``realised_base_error_rate`` (rows in no slice), ``metadata_columns,
        latent_columns`` and ``planted``: per slice ``index, predicate, share,
        error_gap, confidence, expected_error_rate_inside,
        expected_error_rate_outside, expected_gap`` (outside = all rows not in the
        slice), and realised ``n_rows, realised_share, error_rate_inside,
        error_rate_outside, realised_gap, mean_confidence_inside``.

    Examples
    --------
    >>> data = generate(1000, seed=0, mode="planted",
    ...                 planted=[PlantedSlice({"specialty": "oncology"}, error_gap=0.2)])
    >>> list(data.frame.columns[:5])
    ['id', 'text', 'label', 'prediction', 'confidence']
    """
    classes = tuple(str(c) for c in classes)
    planted = tuple(planted)
    shares = _validate_args(n, mode, classes, class_shares, mean_confidence, confidence_concentration, planted)
    n, k = int(n), len(classes)
    class_pol = _polarity(k)
    tables = _attribute_tables()
    parsed = tuple(_parse_predicate(s.predicate) for s in planted)
    _check_not_nested(parsed)

    # Independent streams per stage: a change to one stage's draws leaves the others be.
    r_label, r_attr, r_slice, r_model, r_text, r_class = np.random.default_rng(seed).spawn(6)
    if class_error_gaps is not None:
        gaps = np.asarray(class_error_gaps, float)
        if gaps.shape != (k,) or (gaps < 0).any() or (gaps > mean_confidence).any():
            raise ValueError(f"class_error_gaps must be {k} numbers in [0, mean_confidence], got {class_error_gaps!r}")

    label = r_label.choice(k, size=n, p=shares)
    pol = class_pol[label]
    codes = {col: _sample_codes(tables[col], pol, r_attr) for col in tables}

    assign = np.full(n, -1, np.int64)
    if parsed:
        probs = _assignment_probabilities(parsed, [s.share for s in planted], tables, class_pol, shares,
                                          [s.class_weights for s in planted])
        u = r_slice.random(n)
        for p in range(k):
            rows = label == p
            cdf = np.cumsum(probs[p])
            j = np.searchsorted(cdf, u[rows], side="right")
            assign[rows] = np.where(j < len(parsed), j, -1)
        for j, pred in enumerate(parsed):
            for col, code in pred:
                codes[col][assign == j] = code
        _repair(codes, assign, parsed, pol, tables, r_slice)

    pred, conf, proba = _simulate_model(label, k, assign, planted, mean_confidence, confidence_concentration, r_model,
                                        class_error_gaps, r_class)
    text = _compose_texts(codes["specialty"], pol, codes["register"], codes["negated"].astype(bool),
                          codes["sarcastic"].astype(bool), codes["mixed"].astype(bool), r_text)

    index = pd.RangeIndex(n)
    width = max(7, len(str(n)))
    ids = pc.binary_join_element_wise(
        "s-", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0"), "")
    class_arr = pa.array(classes, pa.string())
    columns = {
        "id": _arrow_to_series(ids, index),
        "text": _arrow_to_series(text, index),
        "label": _arrow_to_series(class_arr.take(pa.array(label)), index),
        "prediction": _arrow_to_series(class_arr.take(pa.array(pred)), index),
        "confidence": pd.Series(conf, index=index, dtype=np.float64),
    }
    for j, c in enumerate(classes):
        columns[f"p_{c}"] = pd.Series(proba[:, j] / _MICRO, index=index, dtype=np.float64)
    for col in METADATA_COLUMNS:
        values = pa.array(METADATA_VALUES[col], pa.string())
        columns[col] = _arrow_to_series(values.take(pa.array(codes[col])), index)
    frame = pd.DataFrame(columns, index=index)

    latent = pd.DataFrame({
        "register": _arrow_to_series(pa.array(LATENT_VALUES["register"]).take(pa.array(codes["register"])), index),
        "negated": codes["negated"].astype(bool),
        "sarcastic": codes["sarcastic"].astype(bool),
        "mixed": codes["mixed"].astype(bool),
        "in_planted": assign,
    }, index=index)

    wrong = pred != label
    truth = {
        "generator": "blindspot.synth",
        "seed": int(seed),
        "n": n,
        "mode": mode,
        "classes": list(classes),
        "class_shares": {c: float(s) for c, s in zip(classes, shares)},
        "realised_class_shares": {c: float(s) for c, s in zip(classes, np.bincount(label, minlength=k) / n)},
        "mean_confidence": float(mean_confidence),
        "confidence_concentration": float(confidence_concentration),
        "base_error_rate": float(1 - mean_confidence),  # expected, rows in no slice (and no weak class)
        "class_error_gaps": None if class_error_gaps is None else [float(x) for x in class_error_gaps],
        "realised_error_rate": float(wrong.mean()),
        "realised_base_error_rate": _rate(assign == -1, wrong),
        "metadata_columns": list(METADATA_COLUMNS),
        "latent_columns": list(LATENT_COLUMNS),
        "planted": [],
    }
    base = 1 - mean_confidence
    for j, (s, pred_j) in enumerate(zip(planted, parsed)):
        inside = assign == j
        e_in, e_out = _rate(inside, wrong), _rate(~inside, wrong)
        # The complement holds the other slices, at their own raised error rates.
        others = sum(o.share * o.error_gap for i, o in enumerate(planted) if i != j) / (1 - s.share)
        truth["planted"].append({
            "index": j,
            "predicate": _predicate_json(pred_j),
            "share": float(s.share),
            "error_gap": float(s.error_gap),
            "confidence": None if s.confidence is None else float(s.confidence),
            "class_weights": None if s.class_weights is None else [float(x) for x in s.class_weights],
            "class_shares_inside": {c: float(np.mean(label[inside] == i)) if inside.any() else None
                                    for i, c in enumerate(classes)},
            "expected_error_rate_inside": float(base + s.error_gap),
            "expected_error_rate_outside": float(base + others),
            "expected_gap": float(s.error_gap - others),
            "n_rows": int(inside.sum()),
            "realised_share": float(inside.mean()),
            "error_rate_inside": e_in,
            "error_rate_outside": e_out,
            "realised_gap": None if e_in is None or e_out is None else e_in - e_out,
            "mean_confidence_inside": float(conf[inside].mean()) if inside.any() else None,
        })
    return SynthData(frame=frame, truth=truth, latent=latent)


# ---------------------------------------------------------------------------- writers


def truth_path(path: str | Path) -> Path:
    """Where :func:`write` puts the truth of ``path``: ``<stem>.truth.json`` beside it."""
    path = Path(path)
    return path.with_name(path.stem + ".truth.json")


def _proba_micro_for_writing(frame: pd.DataFrame, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and confidence rounded to 1e-6, consistent as written.

    The predicted class is set to the rounded confidence, the other classes are
    rounded and any residual of the sum goes to the largest other class; then the
    contract is re-checked (sum exactly 1, prediction the strict argmax).

    Returns
    -------
    proba : ndarray of int64, shape (n, K)
    conf : ndarray of int64, shape (n,)
        Micro-units.
    """
    k = len(classes)
    proba = np.rint(frame[[f"p_{c}" for c in classes]].to_numpy(np.float64) * _MICRO).astype(np.int64)
    conf = np.rint(frame["confidence"].to_numpy(np.float64) * _MICRO).astype(np.int64)
    pred = pd.Categorical(frame["prediction"], categories=list(classes)).codes.astype(np.int64)
    if (pred < 0).any():
        raise ValueError("a prediction is not one of the classes")
    rows = np.arange(len(frame))
    proba[rows, pred] = conf
    residual = _MICRO - proba.sum(axis=1)
    if residual.any():
        masked = np.where(np.arange(k) == pred[:, None], -1, proba)
        proba[rows, masked.argmax(axis=1)] += residual
    others = np.where(np.arange(k) == pred[:, None], -1, proba).max(axis=1)
    if (proba < 0).any() or (others >= conf).any():
        raise ValueError("probabilities cannot be written with 6 decimals and keep the prediction the strict argmax")
    return proba, conf


def _fmt_micro(values: np.ndarray) -> pa.Array:
    """Micro-unit integers as shortest decimal strings (``850000`` -> ``"0.85"``)."""
    whole = pc.cast(pa.array(values // _MICRO), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(values % _MICRO), pa.string()), 6, "0")
    frac = pc.utf8_rtrim(frac, "0")
    frac = pc.if_else(pc.equal(pc.utf8_length(frac), 0), pa.scalar("0"), frac)
    return pc.binary_join_element_wise(whole, frac, ".")


def _json_string(values: pd.Series) -> pa.Array:
    """Strings as JSON string literals (quoted, escaped), vectorised, shape (n,)."""
    values = values.astype(str)
    # Few distinct values (labels, metadata): escape each once with json. A sample
    # tells cheaply whether hashing the whole column is worth it.
    if values.iloc[:1000].nunique() <= 100:
        codes, uniques = pd.factorize(values)
        if len(uniques) <= max(100, len(values) // 10):
            literals = pa.array([json.dumps(u, ensure_ascii=False) for u in uniques], pa.string())
            return literals.take(pa.array(codes))
    arr = pc.cast(pa.array(values), pa.string())
    if pc.any(pc.match_substring_regex(arr, "[\\\\\\x00-\\x1f]")).as_py():
        # Backslashes and control characters are rare: leave them to the json module.
        arr = pa.array([json.dumps(s, ensure_ascii=False)[1:-1] for s in values], pa.string())
    else:
        arr = pc.replace_substring(arr, '"', '\\"')
    return pc.binary_join_element_wise('"', arr, '"', "")


def _jsonl_lines(frame: pd.DataFrame, classes: Sequence[str]) -> pa.Array:
    """One JSON object per row in the nested contract form, newline included, shape (n,)."""
    proba, conf = _proba_micro_for_writing(frame, classes)
    probas = [f"p_{c}" for c in classes]
    pieces: list = []

    def key(name: str, first: bool = False) -> str:
        return ("{" if first else ",") + json.dumps(name) + ":"

    for i, col in enumerate(frame.columns):
        if col in probas:
            continue
        if col == "confidence":
            pieces += [key(col), _fmt_micro(conf), key("probabilities")]
            for j, c in enumerate(classes):
                pieces += [("{" if j == 0 else ",") + json.dumps(c) + ":", _fmt_micro(proba[:, j])]
            pieces.append("}")
        elif pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
            pieces += [key(col, i == 0), pc.cast(pa.array(frame[col].to_numpy()), pa.string())]
        else:
            pieces += [key(col, i == 0), _json_string(frame[col])]
    pieces.append("}\n")
    # Constant pieces stay scalars: pyarrow broadcasts them.
    return pc.binary_join_element_wise(*pieces, "")


def _write_concatenated(fh, strings: pa.Array) -> None:
    """Write the strings of ``strings`` back to back, straight from its data buffer."""
    strings = pc.cast(strings, pa.large_string())  # 64-bit offsets: no 2 GiB limit
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)[strings.offset:strings.offset + len(strings) + 1]
    if len(strings):
        fh.write(memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]])


def write(data: SynthData, path: str | Path, *, chunk_rows: int = 200_000) -> tuple[Path, Path]:
    """Write the frame and its truth.

    Parameters
    ----------
    data : SynthData
    path : str or Path
        ``.jsonl``/``.ndjson``: JSON Lines in the nested contract form (``probabilities``
        an object by class, 6 decimals, exact as in the frame); ``.parquet``: flat
        columns; anything else (``.csv``): flat CSV.
    chunk_rows : int
        JSON Lines are written this many rows at a time (bounds memory).

    Returns
    -------
    (data_path, truth_path) : tuple of Path
        ``truth_path`` is ``<stem>.truth.json`` beside the data (sorted keys, indent 2).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame, classes = data.frame, data.classes
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with open(path, "wb") as fh:
            for start in range(0, len(frame), chunk_rows):
                _write_concatenated(fh, _jsonl_lines(frame.iloc[start:start + chunk_rows], classes))
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        # pyarrow's writer is an order of magnitude faster than DataFrame.to_csv.
        pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    tpath = truth_path(path)
    tpath.write_text(json.dumps(data.truth, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return path, tpath


# -------------------------------------------------------------------------------- CLI


def _fmt_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m blindspot.synth --n 1000 --seed 0 --mode planted --out x.jsonl``."""
    ap = argparse.ArgumentParser(prog="python -m blindspot.synth", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True, help="rows")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--mode", choices=MODES, default="null")
    ap.add_argument("--out", required=True, help="output path: .jsonl, .parquet or .csv")
    ap.add_argument("--plant", action="append", default=[], metavar="COL=VALUE[,COL=VALUE]",
                    help="a planted slice (repeatable); default specialty=oncology in planted mode")
    ap.add_argument("--gap", type=float, default=0.20, help="error-rate gap of every planted slice")
    ap.add_argument("--share", type=float, default=0.10, help="share of rows of every planted slice")
    ap.add_argument("--confidence", type=float, default=None, help="confidence of wrong predictions in slices")
    ap.add_argument("--classes", default=",".join(DEFAULT_CLASSES), help="comma-separated class names")
    ap.add_argument("--mean-confidence", type=float, default=0.85)
    args = ap.parse_args(argv)
    if args.plant and args.mode != "planted":
        ap.error("--plant needs --mode planted")
    try:
        planted = [PlantedSlice.parse(s, error_gap=args.gap, share=args.share, confidence=args.confidence)
                   for s in (args.plant or ["specialty=oncology"])] if args.mode == "planted" else []
        data = generate(args.n, seed=args.seed, mode=args.mode, classes=[c.strip() for c in args.classes.split(",")],
                        mean_confidence=args.mean_confidence, planted=planted)
    except ValueError as exc:  # a bad argument, not a bug: argparse's message and exit status 2
        ap.error(str(exc))
    out, tpath = write(data, args.out)
    slices = "; ".join(
        ",".join(f"{k}={v}" for k, v in p["predicate"].items())
        + f" n={p['n_rows']} error {_fmt_rate(p['error_rate_inside'])} vs {_fmt_rate(p['error_rate_outside'])}"
        for p in data.truth["planted"])
    print(f"wrote {args.n} rows (seed={args.seed}, mode={args.mode}, error rate {data.truth['realised_error_rate']:.3f}"
          + (f", planted: {slices}" if slices else "") + f") to {out}; truth in {tpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
