"""The sentence templates a review is assembled from, one pool per slot.

A review is ``opener? s1 s2? s3? detail closer?`` (see :mod:`blindspot.synth.compose`):
an opener by register, a core sentence by polarity, register and negation (or a
sarcastic one), a mixed-feelings sentence, a detail and a closer.

Placeholders, filled per specialty case when the library is built
(:mod:`blindspot.synth.library`): {doc}, {a_doc}, {pcond} (plain condition, used as
"my {pcond}"), {is} (its verb), {jcond} (clinical condition), {drug}, {med} ("50 mg
sertraline"), {up} (another dose of the same drug, "100 mg"), {freq}, {test},
{a_test}, {sfx}, {sfx2} (clinical side effects), {psfx} (plain).

Pool discipline, so that the latent attributes are recoverable from the text: only
negated pools use negation words (not, n't, never, no, nothing, nobody, no longer);
only sarcastic pools use sarcasm cues (oh great, yeah right, just what I needed,
thanks a lot, love waiting, "scare quotes"); only mixed pools use contrast words
(but, although, though, however); plain pools carry no clinical morphology (-itis,
-emia, -algia, -osis, -ectomy) and no doses; every jargon detail names a dose.
"""

from blindspot.synth.spec import NEG, NEU, POS

# Opener by register.
OPENER = {
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
CORE = {
    (POS, "plain", False): (
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
    (POS, "plain", True): (
        "My {pcond} {is} no longer a problem, even at night.",
        "I never felt rushed or worried, and the {doc} answered every question.",
        "Didn't have any problem getting seen, and the {doc} was great.",
        "No more painful trips to the clinic for my {pcond}, this app is a lifesaver.",
        "Haven't had a single bad day with my {pcond} since the consult.",
        "Couldn't be happier with how the {doc} handled my {pcond}.",
        "Never had such a good experience with an online doctor.",
        "Not a single complaint, the {doc} was excellent.",
        "I didn't feel judged or stressed at all, the {doc} was wonderful.",
        "My {pcond} {is} not a problem anymore, thank you!",
        "There was no stress and no waiting around, the advice was spot on.",
    ),
    (NEG, "plain", False): (
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
    (NEG, "plain", True): (
        "The doctor did not help at all and ignored what I said about my {pcond}.",
        "Never got any help or the follow-up call they promised.",
        "My prescription wasn't sent for three days, not good enough.",
        "Nobody was helpful or explained what was causing my {pcond}.",
        "I still don't feel any better after two consults.",
        "The {doc} didn't ask about my symptoms or my history.",
        "No one helped or answered my messages for a week.",
        "The advice did nothing to help my {pcond}.",
        "Not worth the money, my {pcond} {is} exactly the same.",
        "The {doc} wasn't helpful and couldn't be bothered to look at my photos.",
        "This app was no help at all, I won't be using it again.",
        "My {pcond} {is} no better and nobody seems to care.",
    ),
    (NEU, "plain", False): (
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
    (NEU, "plain", True): (
        "Not much change in my {pcond} so far.",
        "I didn't notice much difference either way.",
        "Can't say it was good or bad, just a normal appointment.",
        "Nothing bad, nothing special, the {doc} gave the usual advice for my {pcond}.",
        "Not the best, not the worst, an ordinary consult.",
        "Haven't noticed any change yet, I might use it again.",
        "No complaints and no praise, the {doc} did what was needed.",
        "No big difference yet, the {doc} said to keep an eye on my {pcond}.",
        "The plan for my {pcond} is not clearly working or failing yet.",
    ),
    (POS, "jargon", False): (
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
    (POS, "jargon", True): (
        "My {jcond} is no longer a problem since starting {med} {freq}.",
        "Haven't had any problems with {sfx} since the {doc} changed {drug} to {up}.",
        "No recurrence or symptoms of {jcond} on {med} {freq}.",
        "Didn't expect such a good {doc}: spotted the {jcond} on my {test}, impressive.",
        "Never had a better explanation of {jcond} and {drug} dosing from a {doc}.",
        "Not a single problem with {sfx} since switching to {med}.",
        "Haven't had any symptoms or needed a rescue dose since starting {med} for {jcond}.",
        "The {sfx} from my old meds is not an issue anymore on {med}.",
        "No more problems with {sfx}, and my {jcond} is stable on {med}.",
    ),
    (NEG, "jargon", False): (
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
    (NEG, "jargon", True): (
        "The {doc} did not help or order {a_test} despite obvious {jcond} symptoms.",
        "{med} did nothing to help my {jcond}, and now I have {sfx}.",
        "Never checked for side effects or my renal function before starting {med}.",
        "Couldn't get any help to adjust {drug} after I developed {sfx}.",
        "No help or follow-up after my {test}, and my {jcond} is untreated.",
        "The {doc} wasn't concerned that {drug} interacts with my other meds; got {sfx}.",
        "My {jcond} hasn't improved at all on {med} {freq}.",
        "Nobody checked for problems with my {test} before putting me on {med}.",
        "The {doc} didn't mention any side effects of {med}, and I got {sfx}.",
    ),
    (NEU, "jargon", False): (
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
    (NEU, "jargon", True): (
        "Not much change in my {jcond} on {med} so far.",
        "No change to my {drug}, {test} still pending.",
        "Haven't noticed any {sfx} on {med}, and no real improvement either.",
        "Didn't change the plan for {jcond}, just repeat {test}.",
        "No new problems on the {test}; staying on {med}.",
        "Can't see any difference so far with {med} {freq} for my {jcond}.",
        "Nothing good or bad from the {doc}, {med} continues for {jcond}.",
    ),
}

# Sarcasm: positive-sounding words, negative meaning; every one carries a cue.
SARCASM = {
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
MIXED = {
    (POS, "plain"): (
        "The side effects were awful but it honestly saved my life.",
        "The app is terrible to navigate but the {doc} was excellent with my {pcond}.",
        "Waiting times are bad, but the care itself was great.",
        "It was expensive and the first call was awful, but the advice really helped.",
        "The first call was bad, but the follow-up was excellent and my {pcond} {is} better.",
        "Although the video quality was horrible, the {doc} was great and sorted out my {pcond}.",
        "I was disappointed at first, but the advice really worked.",
    ),
    (NEG, "plain"): (
        "The {doc} was friendly and the app looks good, but the advice was useless.",
        "Good interface, but the consultation was rushed and terrible.",
        "Booking was great, but my {pcond} {is} worse than before.",
        "The nurse was lovely and helpful, but the {doc} was dismissive and the call was awful.",
        "Although the price is good, the service is horrible.",
        "It started well and I felt better for a day, but the follow-up was a disaster and I am worse now.",
        "The {doc} seemed to care and I was happy at first, but my {pcond} was brushed off and I left disappointed.",
    ),
    (NEU, "plain"): (
        "Some parts were good, but others were bad, so it evens out.",
        "The booking was great but the call itself was pretty bad, so average overall.",
        "The {doc} was good, though the wait was bad and the advice generic.",
        "Helpful service but the sound quality was terrible, so a mixed bag.",
        "Helpful for my {pcond} in some ways, though the price is bad.",
        "The app works fine, however the wait is sometimes awful.",
    ),
    (POS, "jargon"): (
        "{med} gave me awful {sfx} for a week but my {jcond} is finally better.",
        "The {test} took a terrible three weeks to book, but the {doc} got the {jcond} diagnosis right and it helped.",
        "Titration to {up} was rough and the {sfx} was bad, though my {jcond} is much better now.",
        "Although {drug} caused some horrible {sfx}, it saved me from a hospital admission.",
        "The {sfx} was awful, but {med} {freq} worked and my {jcond} improved.",
    ),
    (NEG, "jargon"): (
        "The {doc} was good at explaining, but {med} gave me {sfx} and made my {jcond} worse.",
        "The {test} was quick and good, but the results for my {jcond} sat unread for weeks and things got worse.",
        "Although {drug} helped at first, the {sfx} became unbearable at {up}.",
        "Good bedside manner, but prescribing {med} with my history of {sfx} was a terrible decision.",
        "The app is great to use, however my {jcond} was mismanaged and is worse than ever.",
    ),
    (NEU, "jargon"): (
        "{med} helped a little with {jcond} but the {sfx} is bad, so it is a wash.",
        "The {test} was good, though the plan for {jcond} is still vague and the wait was bad.",
        "Some improvement in {jcond} on {med}, however the {sfx} is a bad trade-off.",
        "Although the {doc} was thorough and good, the {sfx} on {med} {freq} is awful, so it evens out.",
    ),
}

# Detail sentence; every jargon detail names a dose so the register is recoverable.
DETAIL = {
    (POS, "plain"): (
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
    (NEG, "plain"): (
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
    (NEU, "plain"): (
        "The call lasted about fifteen minutes.",
        "They sent a short summary afterwards.",
        "The price is about the same as a clinic visit.",
        "I got a reminder message the day before.",
        "They suggested I book again if things change.",
        "The appointment was at 7pm on a weekday.",
        "The {doc} mentioned {psfx} as a possible side effect.",
        "The app asked a few questions before the call.",
    ),
    (POS, "jargon"): (
        "Sent the script for {med} {freq} straight to my pharmacy.",
        "They scheduled {a_test} and explained why {med} was the right choice.",
        "Clear plan: {med} {freq}, recheck labs in six weeks.",
        "The {doc} flagged an interaction and switched me to {med}.",
        "Labs normalised on {med} within a month.",
        "Tolerating {med} {freq} well, minimal {sfx}.",
    ),
    (NEG, "jargon"): (
        "Got {sfx} on {med} {freq} and had to stop it.",
        "They upped me to {up} {drug} with zero explanation.",
        "The script said {med} {freq} and the pharmacy had to call them to fix it.",
        "Ended up in urgent care with {sfx} after starting {med}.",
        "Still on {med} {freq} with persistent {sfx}.",
        "The pharmacy flagged that {med} clashes with my {sfx2} meds.",
    ),
    (NEU, "jargon"): (
        "Current regimen: {med} {freq}.",
        "Repeat {test} booked, staying on {med} for now.",
        "Plan is {med} {freq} with review in eight weeks.",
        "They noted mild {sfx} on {med} and kept the dose the same.",
        "Dose options were {med} or {up}; we went with the lower one.",
    ),
}

CLOSER = {
    POS: (
        "Would recommend!", "Five stars.", "Highly recommend this app.", "Will definitely use again!", "AMAZING service.",
        "Thank you so much!", "10/10, would book again.", "So glad I found this app!",
        "Honestly the BEST doctor I have seen in years.", "Great app, great doctors!",
        "Where has this app been all my life?", "Very happy with it.",
    ),
    NEG: (
        "Avoid.", "One star.", "Deleting the app.", "WORST experience ever.", "Save your money.",
        "Why is it so hard to get a proper answer?", "Is anyone actually reading these reviews?", "Absolutely USELESS.",
        "Switching to another provider.", "Really disappointed!", "What a waste of time!", "What am I even paying for?",
    ),
    NEU: (
        "Three stars.", "It's fine.", "Okay for minor stuff.", "Might use it again.", "Does the job.",
        "We'll see how it goes.", "Is it worth the price? Hard to say.", "Decent enough.", "It's OK.",
        "Three out of five.",
    ),
}
SARCASTIC_CLOSER = (
    "Five stars, obviously.", "Truly world-class care.", "Brilliant. Just brilliant.", "Ten out of ten, would suffer again.",
    "Great job, really.", "What a treat.",
)
