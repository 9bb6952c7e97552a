"""Round 5: misreadings of real customers' words (docs/triage.md "Round 5"): an offensive ad read as praise, a job
inquiry in people's words, a plain question read as a complaint, a slang compliment, sarcasm with no letdown word
and "League of Legends" as slang thanks. Through the packaged triager and the default playbook; held-out posts
from tests/triage/devsets/misread_frozen.csv (written before the change, never tuned on); the readings' pieces."""

from __future__ import annotations

import pytest

from onevoice.triage import contradiction, rules
from onevoice.triage.types import TriageInput
from tests.triage.judged import route, set_figures

OFFENSIVE_AD = "@acme the new ad with the kid and the dog is honestly offensive, pull it"
JOB_QUESTION = "@acme do you guys have any openings for warehouse jobs in leeds"
WARRANTY_QUESTION = "where do i find the warranty info for the aero phone 5"
SLANG_COMPLIMENT = "lol @acme's twitter admin is on fire today 😂"
SARCASM_NO_LETDOWN_WORD = ("oh fantastic, my package went to another state. really impressive tracking @acme",
                           "Love how the app logs me out every 5 minutes. Truly innovative @acme")
GAME_NAME = "League of Legends tournament this weekend at the @acme store!"


@pytest.fixture
def packaged(settings):
    from onevoice.triage.factory import build_triager

    return build_triager(settings)


def test_an_offensive_ad_read_as_praise_reaches_pr_with_marketing(packaged):
    """Read as praise 63 % ('honestly', 'new') with sentiment negative 72 %: the offensive-ad rule excludes praise,
    so it went to Marketing."""
    t = packaged.triage(TriageInput(text=OFFENSIVE_AD))
    assert t.intent != "praise" and t.complaint and t.sentiment == "negative", t.explanation
    assert any(line.startswith("not praise: condemning words") for line in t.explanation), t.explanation
    d = route(t, OFFENSIVE_AD)
    assert d.lead_team == "pr" and d.collaborators == ["marketing"] and "offensive-ad" in d.tags


def test_a_job_question_in_peoples_words_reaches_hr(packaged):
    """Read as other and routed to Support."""
    t = packaged.triage(TriageInput(text=JOB_QUESTION))
    assert t.intent == "job_inquiry" and not t.complaint, t.explanation
    assert route(t, JOB_QUESTION).lead_team == "hr"


def test_a_plain_warranty_question_is_a_question_for_support(packaged):
    """Read as complaint 53 % (complaint signal 58 %, from 'aero', 'phone'): a question, not a complaint."""
    t = packaged.triage(TriageInput(text=WARRANTY_QUESTION))
    assert t.intent == "question" and not t.complaint, t.explanation
    d = route(t, WARRANTY_QUESTION)
    assert d.lead_team == "support" and "complaint" not in d.tags


def test_a_slang_compliment_is_praise_and_no_safety_report(packaged):
    """Read as other (and the safety rule matched 'on fire')."""
    t = packaged.triage(TriageInput(text=SLANG_COMPLIMENT))
    assert t.intent == "praise" and not t.complaint and t.sentiment == "positive", t.explanation
    assert "safety" not in t.topics
    assert route(t, SLANG_COMPLIMENT).lead_team == "marketing"


@pytest.mark.parametrize("text", SARCASM_NO_LETDOWN_WORD)
def test_sarcasm_without_a_letdown_word_is_a_complaint(packaged, text):
    """Left from round 4: read as praise."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.complaint and t.sentiment == "negative", t.explanation
    assert route(t, text).lead_team == "support"


def test_league_of_legends_is_not_slang_thanks(packaged):
    """Rule praise-slang matched 'legends': read as praise, routed to Marketing."""
    t = packaged.triage(TriageInput(text=GAME_NAME))
    assert t.intent != "praise", t.explanation
    assert not any("praise-slang" in line for line in t.explanation)
    assert route(t, GAME_NAME).lead_team == "support"


@pytest.mark.parametrize("text,intent,lead,collaborators", [
    # Held out (misread_frozen.csv, picked after the last change was measured); each was misread before it.
    ("@Brewly your latest advert making fun of people with accents is honestly offensive", "complaint", "pr",
     ["marketing"]),
    ("ngl the new @MarketHub tv ad is kinda sexist", "complaint", "pr", ["marketing"]),
    ("how do i get a job at @Brewly, i have 2 years barista experience", "job_inquiry", "hr", []),
    ("where do i find my booking reference on the @Kestrel app", "question", "support", []),
    ("whoever does the @MarketHub tweets is a genius 😂", "praise", "marketing", []),
    ("big W for @Brewly bringing back the maple latte", "praise", "marketing", []),
    ("free Legends of Runeterra cards at the @MarketHub gaming event saturday", "other", "support", []),
    # Held out, read right before and after: a fire reported stays a safety report; sincere praise stays praise.
    ("@Kestrel my seat's charging port is sparking and the panel is on fire", "safety_risk", "support",
     ["pr", "product"]),
    ("love how simple the @NovaTel app makes topping up", "praise", "marketing", []),
])
def test_held_out_misreadings(pipeline_triager, text, intent, lead, collaborators):
    t = pipeline_triager.triage(TriageInput(text=text))
    assert t.intent == intent, t.explanation
    d = route(t, text)
    assert d.lead_team == lead and sorted(d.collaborators) == collaborators, (d.lead_team, d.collaborators)


@pytest.mark.parametrize("text,safety", [
    ("lol the admin is on fire today", False),                     # a person on fire: a compliment
    ("you guys are on fire this week 🔥", False),
    ("my charger is on fire", True),                                # a thing on fire: a safety report
    ("the staff room is on fire, everyone out", True),
    ("the admin is on fire lol but my charger caught fire", True),  # a fire reported after the compliment
])
def test_a_person_on_fire_is_a_compliment_and_a_thing_on_fire_a_safety_report(text, safety):
    hits, _, topics = rules.read(text)
    assert any(r.intent == "safety_risk" for r, _ in hits) == safety
    assert ("safety" in topics) == safety
    scan = rules.Scan(text)
    assert (hits, topics) == (rules.intent_hits(text, None, scan), rules.topics(text, None, scan))


@pytest.mark.parametrize("text,job", [
    ("any openings at the leeds store?", True),
    ("i'd love to work for you, where do i send my cv", True),
    ("looking for work, anything in the bristol depot?", True),
    ("is the depot taking on staff", True),
    ("how do i apply?", True),
    ("how do i apply the discount code", False),   # not a job: a code applied
    ("how do i apply for a refund", False),
    ("how do i resume my paused subscription", False),
    ("my print jobs are stuck in the queue", False),
    ("looking for work boots in a size 10", False),
    ("two new store openings in leeds this week!", False),
])
def test_job_inquiries_in_peoples_words(text, job):
    hits, _, _ = rules.read(text)
    assert any(r.intent == "job_inquiry" for r, _ in hits) == job, hits


@pytest.mark.parametrize("text,question", [
    ("where do i find the warranty info for the aero phone 5", True),
    ("@acme hi, does the aero tab support a stylus?", True),
    ("do you deliver to the isle of wight", True),
    ("where is my order?? placed it 2 weeks ago", False),         # not asking for information
    ("my phone died, how do i get it fixed", False),               # does not open with the question
])
def test_what_opens_as_a_plain_question(text, question):
    assert (contradiction.plain_question(text) is not None) == question


def test_praise_against_the_text():
    assert contradiction.praise_against(["advertising", "offensive_content"], 0.1)  # condemns, however read
    assert contradiction.praise_against(["delivery"], 0.8)                          # surely negative, a problem
    assert contradiction.praise_against(["delivery"], 0.4) is None
    assert contradiction.praise_against([], 0.9) is None                              # no problem named


def test_the_frozen_misreadings_set_holds_its_floors(pipeline_triager):
    """misread_frozen.csv (42 posts, frozen): measured complaint 0.816, sentiment 0.874, lead + collaborators 32 of
    42 after the change (0.700 / 0.764 / 26 of 42 before; docs/triage.md, round 5)."""
    complaint, sentiment, right, n = set_figures(pipeline_triager, "misread_frozen.csv")
    assert complaint["macro_f1"] >= 0.79, complaint
    assert sentiment["macro_f1"] >= 0.85, sentiment
    assert right >= 31, f"{right} of {n}"


@pytest.mark.parametrize("text", ["these buds are fire fr", "the new aero phone is lowkey fire"])
def test_a_thing_that_is_fire_is_praise(packaged, text):
    """Slang for excellent; read as a complaint before (the models take "fire" literally)."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "praise" and not t.complaint and "crisis" not in t.flags, t.explanation
    # Negative and "angry" before (the models read the word), so a compliment was raised to high urgency.
    assert t.sentiment == "positive" and t.urgency == "low", t.explanation


def test_a_slang_fire_beside_a_letdown_is_a_complaint_and_no_crisis(packaged):
    """The crisis model read 'fire' as a wildfire (77 %): high urgency and PR on a broken hinge."""
    t = packaged.triage(TriageInput(text="ok so the buds r fire but the case hinge broke after a week 😩"))
    assert t.intent == "complaint" and "crisis" not in t.flags and t.urgency == "normal", t.explanation
    # The crisis head reads the text with the slang put plainly (stop 29; before, its 77 % was set aside).
    assert t.scores["crisis"] < 0.5, t.scores


@pytest.mark.parametrize("text", ["the hub is on fire!! smoke everywhere",
                                  "the buds are fire but the charger caught fire last night"])
def test_a_thing_on_fire_beside_slang_is_still_a_safety_report(packaged, text):
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "safety_risk" and t.urgency == "critical", t.explanation


@pytest.mark.parametrize("text,complaint", [
    # Complaints put as questions: read as plain questions before.
    ("is it too much to ask for a charger that lasts more than a month?", True),
    ("so do i need to call 5 times before someone picks up or what", True),
    ("how many times do i have to explain my order number", True),
    # Questions about how the product works stay questions.
    ("how many times do i need to charge the buds per week?", False),
    ("what's the point of the pro plan vs basic?", False),
    ("when will the aero buds be back in stock?", False),
])
def test_a_complaint_put_as_a_question(packaged, text, complaint):
    t = packaged.triage(TriageInput(text=text))
    assert (t.intent == "complaint" and t.complaint) == complaint, t.explanation


@pytest.mark.parametrize("text", ["Bonjour, ma commande n'est jamais arrivée, c'est inadmissible",
                                  "Meine Bestellung ist nie angekommen, unverschämt",
                                  "Il mio ordine non è mai arrivato, inaccettabile",
                                  "Mijn bestelling is nooit aangekomen"])
def test_never_arrived_and_unacceptable_in_other_languages_is_a_negative_complaint(packaged, text):
    """The French one was a positive complaint and the Dutch one 'other' before (the models learned mostly
    English); the German and Italian ones were right and must stay so."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.sentiment == "negative", t.explanation


@pytest.mark.parametrize("text,praise", [
    # Satisfied by understatement: read as negative complaints before ("complain", "complaints").
    ("can't complain, delivery was quick", True),
    ("no complaints, works as advertised", True),
    ("honestly can't complain. fast delivery", True),
    # Not understatement.
    ("I can't complain to anyone because nobody answers", False),
    ("i have no complaints about the phone but the charger broke after a week", False),
    ("you say no complaints but my order is still missing", False),
])
def test_satisfied_by_understatement(packaged, text, praise):
    t = packaged.triage(TriageInput(text=text))
    assert (t.intent == "praise" and t.sentiment == "positive" and not t.complaint) == praise, t.explanation


@pytest.mark.parametrize("text", ["that drop was fire", "that ad was fire", "ngl this update slaps",
                                  "this app still slaps"])
def test_slang_praise_stays_praise_through_the_second_opinion(packaged, text):
    """Stop 29: the fast path read the slang, but the second opinion's encoder took "fire" as a disaster ("that drop
    was fire" came out a critical safety risk) and "slaps" as a blow; it now reads the words put plainly."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "praise" and t.sentiment == "positive" and t.urgency == "low", t.explanation
    # The offensive head read the word too ("that drop was fire" 73 %, flagged and routed to PR as #abusive).
    assert "offensive" not in t.flags and "crisis" not in t.flags, t.scores


@pytest.mark.parametrize("text", ["this shit is fire", "this drop is fire as fuck"])
def test_slang_praise_with_a_swear_word_is_still_offensive_language(packaged, text):
    t = packaged.triage(TriageInput(text=text))
    assert t.flags.get("offensive") and t.sentiment == "positive", t.explanation


def test_the_second_opinion_reads_the_slang_put_plainly():
    from onevoice.triage.rules import plainly

    assert plainly("That drop was FIRE, fire!", {"fire": "great"}) == "That drop was great, great!"
    assert plainly("a firework", {"fire": "great"}) == "a firework"  # whole words only
    assert plainly("it slaps", None) == "it slaps"


@pytest.mark.parametrize("text,praise", [
    ("ngl this update slaps", True), ("the new flavour slaps", True),
    ("he slaps them when he is angry", False), ("this slaps me in the face", False),
])
def test_slaps_is_praise_only_for_a_thing(text, praise):
    hits, _threat, _topics = rules.read(text)
    assert any(r.name == "praise-compliment" for r, _ in hits) == praise, hits


@pytest.mark.parametrize("text", ["there is a fire at your store on main st", "the fire alarm went off in your shop",
                                  "we were evacuated from your hotel last night"])
def test_a_fire_or_an_evacuation_at_a_place_is_a_safety_report(packaged, text):
    """Read as a plain complaint (normal urgency) before: no safety word was in "a fire at your store"."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "safety_risk" and t.urgency == "critical", t.explanation


def test_distributors_are_a_partnership_word():
    hits, _threat, _topics = rules.read("are you looking for distributors in Brazil?")
    assert {r.intent for r, _ in hits} == {"partnership"}, hits


@pytest.mark.parametrize("text", ["Are you looking for distributors in Brazil?",
                                  "we'd love to become your official reseller in Kenya",
                                  "hi, we are interested in distributing your products in Poland"])
def test_asking_for_a_distribution_deal_is_a_partnership(packaged, text):
    """Read as job_inquiry ("are you looking for": the intent head's job ask) with the word's 2.5 beside it."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "partnership" and not t.complaint, t.explanation


@pytest.mark.parametrize("text", ["great, another update that bricks my phone. thanks a lot",
                                  "wow what amazing customer service, nobody answered in 5 days",
                                  "love how the battery dies at 40%"])
def test_sarcasm_about_a_fault_or_a_silence_is_a_complaint(packaged, text):
    """Read as praise (positive, low): "bricks" (only "bricked" was a fault), a battery that "dies" and nobody
    having answered (only "nobody answers") were no letdown, so the praise stood."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.complaint and t.sentiment == "negative", t.explanation


@pytest.mark.parametrize("text,complaint", [
    ("why does it take 3 weeks to ship a phone case?", True),    # a question before (complaint 29 %)
    ("I've been waiting a week for a reply", True),
    ("how long does it take to ship to Canada?", False),  # asking how long, not complaining
    ("does delivery take 3 weeks to Brazil?", False),
])
def test_a_question_about_a_wait_is_a_complaint(packaged, text, complaint):
    t = packaged.triage(TriageInput(text=text))
    assert (t.intent == "complaint" and t.complaint) == complaint, t.explanation


@pytest.mark.parametrize("text", ["Do you ship to Canada? been waiting 3 weeks for my order lol",
                                  "hi, do you deliver on sundays? nobody answered my email in 5 days"])
def test_a_stated_complaint_beside_a_question_stays_a_complaint_through_the_second_opinion(packaged, text):
    """Read as a question: the fast path read the complaint (a complaint rule beside a wait), the second
    opinion's encoder, which reads no rules, said question (87 %), and the average of the two took it."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.complaint and t.sentiment == "negative", t.explanation


def test_a_plain_question_with_a_wait_word_is_no_stated_complaint(packaged):
    t = packaged.triage(TriageInput(text="how long does it take to ship to Canada?"))
    assert t.intent == "question" and not t.complaint and "ruled_in" not in t.scores, t.explanation


@pytest.mark.parametrize("text,defect", [
    ("this update bricks my phone", True), ("my battery keeps dying", True), ("the phone dies at 30%", True),
    ("my kid loves the lego bricks", False), ("bricks and mortar stores near me?", False),
    ("i could die, this is so good", False), ("moose dies after being tranquilized", False),
])
def test_a_device_that_dies_or_is_bricked_is_a_defect(text, defect):
    _hits, _threat, topics = rules.read(text)
    assert ("defect" in topics) == defect, topics


@pytest.mark.parametrize("text", ["I'm with WSJ, quick question", "Associated Press reporter here",
                                  "i work for the associated press", "hi, reaching out for comment on the recall"])
def test_newsrooms_one_list_and_a_request_for_comment_are_press_words(text):
    """The newsrooms were written twice (the "X here" names and the "I'm with X" names differed: "I'm with WSJ"
    was not read); one list now. A request for comment was not a press word."""
    hits, _threat, _topics = rules.read(text)
    assert [r.name for r, _ in hits] == ["press-words"], hits


# Stop 31: customers' words posted to the triager (docs/triage.md "Stop 31"); each was misread before.
@pytest.mark.parametrize("text", [
    "Great, my flight got moved AGAIN. Love spending my weekend in an airport @SkyHop",
    "@BrightBank i love how your fraud team blocks my card every time i buy something abroad. really helpful",
])
def test_sarcasm_about_a_change_that_keeps_coming_or_a_card_blocked_is_a_complaint(packaged, text):
    """Read as positive 'other' and as spam."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.complaint and t.sentiment == "negative", t.explanation


@pytest.mark.parametrize("text", [
    "@ZapMobile cancelled my contract and you still took payment this month?? want it back",
    "@ZapMobile is there an outage in manchester? internet down since 7am",
    "@SkyHop received the wrong size seat cover, can i swap it?",
    "@BrightBank is it normal for a transfer to take this long?",
    "@FreshBox how hard is it to get an order right",
    "@ShopNest ive emailed, called and tweeted. what else do i have to do to get my money",
    "@BrightBank hello? anyone there? sent 4 DMs",
    "@ZapMobile why is my bill double this month",
    "@FreshBox portions have gotten so small lately, feels like a con",
    "@FreshBox not impressed tbh",
])
def test_a_breach_stated_beside_a_question_or_a_question_only_a_complaint_asks(packaged, text):
    """Read as plain questions (complaint 1-42 %), 'other' or praise: rule complaint-stated weighs 3."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.complaint, t.explanation


@pytest.mark.parametrize("text", [
    "love this song, its been stuck in my head all day",
    "we moved again this year and @ZapMobile made the switch so easy, thank you",
    "sold out again! well deserved @FreshBox",
    "you still took the time to call me back, thanks @BrightBank",
    "@ShopNest what a fantastic experience, arrived next day and well packed",
])
def test_sincere_praise_near_the_new_letdown_words_stays_praise(packaged, text):
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "praise" and not t.complaint and t.sentiment == "positive", t.explanation


@pytest.mark.parametrize("text,stated", [
    ("wifi has been out for 3 days", True),
    ("is the site down for maintenance tonight?", False),   # planned work asked about
    ("my phone is off for the weekend", False),
    ("you still took the time to call", False),
    ("you still charged me after I cancelled", True),
    ("ordered a size 10 got a size 14", True),
    # Stop 32
    ("ordered a blue hoodie and got a pink one", True),
    ("ordered a coffee and got a free cookie, love it", False),
    ("ordered a pizza and got a text saying it's on the way", False),
    ("you gave me someone else's receipt", False),
    ("they sent us the old model instead of the new one", True),
    ("the agent hung up on me", True),
    ("please stop texting me", True),
    ("we'll do better next time", False),
    ("we can do better as a community", False),
    ("do better acme", True),
    # Stop 33
    ("package shows delivered but it went to a completely different street", True),
    ("tracking says delivered, and it was! thanks", False),
    ("Still shooting on day 2 of the TV commercial. The show must go on!", False),   # a public tweet matched once
    ("On Day 2 of my UNHappy Feet...", False),
    ("is it normal for the new phone to get this hot when charging?", True),
    ("is it normal to feel nervous before a job interview", False),
    ("wifi in room 312 hasn't worked since we checked in", True),
    ("i haven't worked since march, any jobs going?", False),                         # a person, not a thing
    ("we're out here selling lemonade for the food bank", False),
])
def test_complaint_stated_rule(text, stated):
    hits, _, _ = rules.read(text)
    assert any(r.name == "complaint-stated" for r, _ in hits) == stated, hits


@pytest.mark.parametrize("text,fraud", [
    ("someone has taken money out of my account that wasnt me", True),
    ("there are 3 transactions i didnt make on my card", True),
    ("£200 withdrawn from my account overnight", True),
    ("my card has been cloned", True),
    ("I will be contacting my solicitor about the money you took from my account", False),  # a charge disputed
    ("how do I take money out of the cash machine abroad", False),
    ("I spent £50 from my account on your sale, love it", False),               # the customer's own payment
    ("transferred £100 from my account to savings, how long does it take", False),
    ("can't log in to my account, password reset never arrives", False),          # account security, no fraud
    # Stop 33: someone posing as the organization
    ("is this email really from @acme?", True),
    ("someone is impersonating @acme on tiktok", True),
    ("the email said it was from the courier, asking me to confirm my address", True),
    ("got an email from you saying my order shipped", False),                      # the organization's own mail
    ("is this deal from the summer sale still on?", False),
])
def test_fraud_words(text, fraud):
    _, _, topics = rules.read(text)
    assert ("fraud" in topics) == fraud, topics


def test_a_fraud_report_is_answered_first_with_it(packaged):
    """'someone has taken money out of my account' was a question at normal priority, no topic, no IT."""
    text = "@BrightBank i never made these payments, there are 3 transactions i dont recognise"
    t = packaged.triage(TriageInput(text=text))
    assert "fraud" in t.topics, t.explanation
    d = route(t, text)
    assert d.lead_team == "support" and "it" in d.collaborators and "fraud" in d.tags and d.priority == "high", d


@pytest.mark.parametrize("text,complaint", [
    # A mixed review whose point comes after "but": read as praise before.
    ("@FreshBox food is lovely but the delivery was 3 hours late", True),
    ("@ZapMobile signal is great now but the bill was wrong again", True),
    ("the staff were great but honestly the room was filthy", True),
    # The letdown first and put right after "but": praise.
    ("@SkyHop flight was delayed but the crew were lovely about it", False),
    ("@FreshBox the box was late but it was worth the wait, amazing food", False),
])
def test_a_mixed_review_is_read_by_what_follows_but(packaged, text, complaint):
    t = packaged.triage(TriageInput(text=text))
    assert (t.intent == "complaint" and t.complaint) == complaint, t.explanation
    assert t.intent in ("complaint", "praise"), t.explanation


# Stop 32: customers' words posted to the triager (docs/triage.md "Stop 32"); each was misread before.
@pytest.mark.parametrize("text", [
    "you sent me a size 12 instead of a 10 and now the return label wont print",          # was legal_risk
    "wow. just wow. ordered a table, got a chair",                                        # was praise
    "that moment when customer service hangs up on you",                                  # was a question
    "what do i have to do to get a callback from you people",                             # was a question
    "can you stop sending me 5 emails a day please",                                      # was a suggestion
    "honestly @acme do better, this is embarrassing",                                     # was praise
    # Stop 33 (docs/triage.md "Stop 33")
    "@acme my order says delivered but its not here, neighbours dont have it either. now what??",   # was a question
    "Day 12 of waiting for a technician. Day 12. @acme",                                            # was praise
    "is it normal for a brand new fridge to make this noise? because mine sounds like a jet engine",  # a sales lead
    "y'all really out here selling $1200 phones with a screen that scratches in a week",           # was spam
    'my "next day delivery" is now on day 5',                                                       # was other
    'ahh yes, the classic acme "we\'re experiencing high volumes" message. for 3 weeks.',           # was other
    "@acme i need this fixed TODAY, i run a business and my card machine hasnt worked since monday",  # was other
    'cant get through on the phone, live chat is "unavailable", email bounces. how do i contact you',  # a question
    "ordered a 65 inch tv and a 55 inch arrived",                                                   # a question
])
def test_customers_words_that_are_complaints(packaged, text):
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "complaint" and t.complaint, t.explanation
    assert route(t, text).lead_team == "support"


@pytest.mark.parametrize("text", ["shoutout to sam at the leeds store, sorted my phone out in 10 mins 🙌",
                                  "the lady at the till sorted it out in 2 mins, legend"])
def test_a_problem_put_right_quickly_is_praise(packaged, text):
    """The first was a complaint (negative 64 %, from 'phone')."""
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "praise" and not t.complaint and t.sentiment == "positive", t.explanation


def test_a_problem_not_put_right_is_no_praise_word():
    hits, _, _ = rules.read("nobody sorted my phone out in 3 weeks")
    assert not any(r.name == "praise-slang" for r, _ in hits), hits


@pytest.mark.parametrize("text", ["whats the difference between the basic and plus plan",     # was praise
                                  "hi, when will the blue one be back in stock",              # was a suggestion
                                  "when is the xl coming back in stock?"])
def test_plain_product_questions_are_questions(packaged, text):
    t = packaged.triage(TriageInput(text=text))
    assert t.intent == "question" and not t.complaint, t.explanation


@pytest.mark.parametrize("text", ["boycott acme until they stop testing on animals #boycottacme",
                                  "@acme care to comment on the report that you dump waste in the river?",
                                  "the allegations against your factory are disgusting, explain yourselves"])
def test_a_boycott_or_allegations_to_answer_go_to_pr_first(packaged, text):
    """Each went to Support alone (a complaint or a question)."""
    t = packaged.triage(TriageInput(text=text))
    assert "reputation" in t.topics, t.explanation
    d = route(t, text)
    assert d.lead_team == "pr" and d.priority == "high" and "reputation" in d.tags, d


@pytest.mark.parametrize("text,reputation", [
    ("Wth am i supposed to do with my Thursday night with no Grey's nor Scandal?!", False),   # a TV show
    ("Illegal Alien from Mexico Accused of Raping 11-Year-Old Girl", False),                    # news, not us
    ("your company keeps getting accused of using sweatshops", True),
    ("signing the petition against acme's new policy", True),
    # Stop 33
    ("we keep sponsoring the local under-12s, proud of them", False),
    ("the staff say they're happy to help anytime", False),
    ("drivers say they are forced to skip breaks to hit targets", True),
])
def test_reputation_words_name_an_attack_on_the_organization(text, reputation):
    _, _, topics = rules.read(text)
    assert ("reputation" in topics) == reputation, topics


@pytest.mark.parametrize("text", ["your website is showing my account with someone elses address and orders on it",
                                  "i logged in and saw another customer's orders and address on my account"])
def test_someone_elses_data_shown_is_a_data_breach(packaged, text):
    """The first was a plain question at normal priority for Support alone."""
    t = packaged.triage(TriageInput(text=text))
    assert "data_breach" in t.topics, t.explanation
    d = route(t, text)
    assert {"legal", "it"} <= set(d.collaborators) and d.priority == "high", d


def test_a_complaint_that_falls_short_beside_a_negative_sentiment_is_not_praise():
    """Read as complaint, the signal fell short and the best manner intent was praise: never beside negative."""
    from onevoice.triage import complaint as complaint_signal

    dist = {"complaint": 0.49, "praise": 0.3, "other": 0.2, "question": 0.01}
    assert complaint_signal.reconcile(dist, 0.3, "complaint", 0.49)[0] == "praise"
    assert complaint_signal.reconcile(dist, 0.3, "complaint", 0.49, negative=True)[0] == "other"


@pytest.mark.parametrize("text", ["@BrightBank i never made these payments, there are 3 transactions i dont recognise",
                                  "your website is showing my account with someone elses address and orders on it"])
def test_triage_urgency_reads_fraud_and_a_data_breach_as_high(packaged, text):
    """Both were 'normal' in triage (high only through the default playbook's rules)."""
    t = packaged.triage(TriageInput(text=text))
    assert t.urgency == "high", t.explanation
    assert any(line.startswith("urgency high") and "topic " in line for line in t.explanation), t.explanation


def test_an_urgent_topic_raises_urgency_but_never_for_spam_or_above_high():
    from onevoice.triage.urgency import urgency_for

    assert urgency_for("question", "neutral", 0.0, {}, 0.0, 0, 0, ["fraud"])[0] == "high"
    assert urgency_for("other", "neutral", 0.0, {}, 0.0, 0, 0, ["billing"])[0] == "low"
    assert urgency_for("spam", "neutral", 0.0, {}, 0.0, 0, 0, ["fraud"])[0] == "low"
    assert urgency_for("safety_risk", "negative", -0.9, {}, 0.0, 0, 0, ["data_breach"])[0] == "critical"


@pytest.mark.parametrize("text", [
    "got a text saying its from acme asking me to pay a £1.99 redelivery fee, is this legit?",     # a plain question
    "there's a fake acme account on instagram messaging people about a giveaway, pls report it",  # spam, closed
])
def test_someone_posing_as_the_organization_is_fraud_for_support_and_it(packaged, text):
    t = packaged.triage(TriageInput(text=text))
    assert "fraud" in t.topics and t.intent != "spam", t.explanation
    d = route(t, text)
    assert d.lead_team == "support" and "it" in d.collaborators and d.priority == "high", d


def test_mail_addressed_to_another_customer_is_a_data_breach(packaged):
    text = "I got an email from you addressed to a totally different customer with their order details"
    t = packaged.triage(TriageInput(text=text))
    assert "data_breach" in t.topics, t.explanation
    assert {"legal", "it"} <= set(route(t, text).collaborators)


@pytest.mark.parametrize("text", [
    "why is acme still sponsoring that event after everything that came out? disgusting",
    "acme workers say they're not allowed toilet breaks. is this true @acme?",
    "are you seriously still using suppliers that were caught using forced labour?",
])
def test_how_staff_are_treated_or_what_we_back_goes_to_pr(packaged, text):
    """The first went to Support as a complaint, the second as a question, the third as a complaint."""
    t = packaged.triage(TriageInput(text=text))
    assert "reputation" in t.topics, t.explanation
    assert route(t, text).lead_team == "pr"


def test_approval_and_a_launch_asked_about(packaged):
    """'love to see it' made a complaint of praise; 'whens the aero 6 coming out' was other."""
    t = packaged.triage(TriageInput(text="the packaging on my acme order was 100% plastic free, love to see it"))
    assert t.intent == "praise" and not t.complaint, t.explanation
    t = packaged.triage(TriageInput(text="@acme whens the aero 6 coming out"))
    assert t.intent == "question", t.explanation
    hits, _, _ = rules.read("I would love to see it and see her bankrupted")
    assert "praise-slang" not in {r.name for r, _ in hits}
