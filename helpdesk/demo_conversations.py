"""The scripted week that `seed_demo` loads: a print shop's customers, conversations and team chat.

Each conversation is written for one customer and refers to that customer's own newest order
(the fake Shopify/PERP derive their orders from the customer number, `integrations/fakes/
demo_data.py`), so the order links, the order panel and the text agree. Placeholders: {first}
the customer's first name, {order} the Shopify order (#1004), {perp} the same order in PERP
(PD-ORD-10004), {product} its first line item, {agent} the assignee's first name.
"""

from dataclasses import dataclass, field

# Customers: (name, company or ""). Customer N is demo.customer.N@example.com / +4477009NNNNN.
CUSTOMERS = [
    ("Maya Patel", "Patel & Co Events"),
    ("Tom Becker", "Harbour Street Bakery"),
    ("Sofia Alvarez", ""),
    ("Jonas Lindqvist", "Northwind Running Club"),
    ("Priya Raman", "Raman Dental"),
    ("Oliver Grant", "Grant & Hale Architects"),
    ("Chloe Martin", ""),
    ("Daniel Okafor", "Okafor Roofing"),
    ("Hannah Weiss", "Little Fern Florist"),
    ("Marco Rossi", "Trattoria Rossi"),
    ("Emily Chen", "Chen Yoga Studio"),
    ("Lucas Moreau", "Moreau Wines"),
    ("Aisha Khan", ""),
    ("Ben Carter", "Carter Fitness"),
    ("Grace O'Neill", "St Brigid's Primary PTA"),
    ("Ryan Doyle", "Doyle Plumbing"),
    ("Nina Kowalski", "Kowalski Photography"),
    ("Samuel Adeyemi", "Brightside Church"),
    ("Laura Fischer", ""),
    ("Ethan Brooks", "Brooks Brewing Co"),
    ("Zoe Turner", "Turner & Daughters Removals"),
    ("Isaac Levy", "Levy Law"),
    ("Mia Santos", "Santos Hair Lounge"),
    ("Harvey Clarke", "Clarke Motors"),
]


@dataclass(frozen=True)
class Turn:
    """One step of a conversation, `minutes` after the previous one."""

    who: str  # "customer", "agent" (the assignee replies) or "note" (the assignee notes)
    text: str
    minutes: int = 30


@dataclass(frozen=True)
class Conversation:
    channel: str
    subject: str
    status: str
    priority: str
    assignee: str | None  # demo username
    team: str | None  # team slug
    opened_hours_ago: float
    turns: list[Turn]
    is_escalated: bool = False
    proof: str = ""  # "" or a proof decision: pending, approved, changes_requested
    tags: list[str] = field(default_factory=list)


C, A, N = "customer", "agent", "note"

CONVERSATIONS = [
    Conversation(
        "email",
        "Proof for {order}: logo is too close to the edge",
        "open",
        "high",
        "ana",
        "design",
        2.5,
        [
            Turn(
                C,
                "Hi, thanks for the proof for {order}. The logo on the back sits right on the "
                "edge, it looks like it will get cut off. Can you move it in a bit? Everything "
                "else is perfect.",
            ),
            Turn(
                A,
                "Hi {first}, good catch. It sits inside the 3 mm bleed, so part of it would be "
                "trimmed. I've asked our designer to move it 5 mm in and will send a new proof "
                "this afternoon.",
                25,
            ),
            Turn(N, "Design: move back logo 5 mm inside the safe zone, re-proof v2 today.", 2),
            Turn(C, "Great, thank you! We need them by next Friday if possible.", 40),
        ],
        proof="changes_requested",
    ),
    Conversation(
        "whatsapp",
        "Rush: banners for Saturday's market",
        "open",
        "urgent",
        "ben",
        "production",
        0.9,
        [
            Turn(
                C,
                "Hi! Any chance you can do two 2x1 m vinyl banners by Saturday morning? Same "
                "design as {order}, just the date changed to 14 June.",
            ),
            Turn(
                A,
                "Hi {first}, yes we can do that: the rush slot on Thursday's press run is free. "
                "It's a £25 rush fee on top. Shall I go ahead?",
                12,
            ),
            Turn(C, "Yes please go ahead. Can I collect instead of delivery?", 9),
        ],
    ),
    Conversation(
        "email",
        "Artwork at 72 dpi: will it print OK?",
        "pending",
        "normal",
        "ana",
        "design",
        20,
        [
            Turn(
                C,
                "I've attached our poster for {order}. Our designer says it's 72 dpi, is that "
                "a problem for A2?",
            ),
            Turn(
                A,
                "Hi {first}, at A2 that file would print blurry: we need 300 dpi at the final "
                "size (about 4960 x 7016 px). If your designer has the original in Illustrator "
                "or InDesign, a PDF export with 3 mm bleed is ideal. Could you ask them for it?",
                45,
            ),
            Turn(N, "Waiting on the customer's designer for a vector PDF. Hold the job.", 1),
        ],
    ),
    Conversation(
        "instagram",
        "Do the stickers survive rain?",
        "solved",
        "low",
        "ben",
        None,
        30,
        [
            Turn(C, "hey do your vinyl stickers survive rain? want them for water bottles"),
            Turn(
                A,
                "Hi {first}! Yes: our vinyl stickers are waterproof and dishwasher-safe on the top "
                "rack. For bottles we'd suggest the gloss laminate, it stops scuffs.",
                18,
            ),
            Turn(C, "perfect, ordering now. thanks!", 6),
        ],
    ),
    Conversation(
        "email",
        "Business cards misprinted: colours are off",
        "open",
        "high",
        "manager",
        "production",
        4.5,
        [
            Turn(
                C,
                "The business cards from {order} arrived today but the blue is much darker "
                "than on the proof, almost navy. We use these at a conference on Monday.",
            ),
            Turn(
                N,
                "Checked PERP: {perp} ran on press 2 after the calibration was due. Likely our "
                "fault. Approve a reprint at no cost.",
                35,
            ),
            Turn(
                A,
                "Hi {first}, I'm sorry, that's on us: the press was out of calibration that "
                "day. We'll reprint at no cost and ship them express so you have them on "
                "Friday. No need to send the old ones back.",
                20,
            ),
            Turn(C, "Thank you, that's a relief.", 60),
        ],
        is_escalated=True,
    ),
    Conversation(
        "sms",
        "Where is my order?",
        "open",
        "normal",
        None,
        None,
        1.5,
        [
            Turn(C, "Hi, it's {first}. Order {order} said it would ship Monday, any news?"),
        ],
    ),
    Conversation(
        "email",
        "Wholesale quote: 5,000 menus a month",
        "open",
        "normal",
        "manager",
        "sales",
        5,
        [
            Turn(
                C,
                "We're opening two more locations and would like a standing order: about 5,000 "
                "A4 menus a month on 350gsm silk, double-sided, plus table tents. What would "
                "the price per unit be on a 12-month agreement?",
            ),
            Turn(
                N,
                "Sales: trade price list tier 3 applies over 50k/year. Check finishing cost for "
                "the table tents with production.",
                50,
            ),
        ],
    ),
    Conversation(
        "facebook",
        "Shipping delay on the wedding invitations",
        "on_hold",
        "high",
        "ben",
        "production",
        5,
        [
            Turn(
                C,
                "Hi, our invitations ({order}) still show 'in production' and the wedding is "
                "in three weeks. We need to post them this week!",
            ),
            Turn(
                A,
                "Hi {first}, congratulations! The foil stage is running a day behind because "
                "of a supplier delay. {perp} is next in line on Wednesday and ships "
                "Thursday by tracked 24h, so you'll have them Friday.",
                30,
            ),
            Turn(N, "On hold until foil stock arrives Wednesday morning (supplier ETA).", 5),
        ],
    ),
    Conversation(
        "email",
        "Invoice for order {order}",
        "solved",
        "low",
        "ana",
        "sales",
        50,
        [
            Turn(C, "Could you send a VAT invoice for {order}? Our accounts team needs it."),
            Turn(
                A,
                "Hi {first}, the VAT invoice for {order} is attached, and you can download it "
                "any time from your account page. Anything else?",
                40,
            ),
            Turn(C, "That's all, thanks!", 90),
        ],
    ),
    Conversation(
        "whatsapp",
        "Proof approved: can you print today?",
        "solved",
        "normal",
        "ana",
        "design",
        22,
        [
            Turn(C, "Just approved the proof for the flyers. Can they go on today's run?"),
            Turn(
                A,
                "Hi {first}, yes: they're on the 3 pm run and will ship tomorrow morning. "
                "You'll get the tracking number by SMS.",
                10,
            ),
        ],
        proof="approved",
    ),
    Conversation(
        "email",
        "Bleed: what size should my file be?",
        "pending",
        "low",
        "ana",
        "design",
        28,
        [
            Turn(
                C,
                "I'm making the artwork for A5 flyers myself in Canva. What does '3 mm bleed' "
                "mean and what size should I set the page to?",
            ),
            Turn(
                A,
                "Hi {first}, bleed is extra background past the trim line so there's no white "
                "edge after cutting. For A5 set the page to 154 x 216 mm (148 x 210 plus 3 mm "
                "each side) and keep text 5 mm inside the trim. In Canva: File > Show print "
                "bleed, then download as 'PDF Print' with crop marks and bleed ticked.",
                35,
            ),
        ],
    ),
    Conversation(
        "instagram",
        "Matte or gloss for photo prints?",
        "new",
        "low",
        None,
        None,
        0.6,
        [
            Turn(
                C,
                "hi, ordering prints of my photography for a gallery wall. would you go matte "
                "or gloss? lots of dark shots",
            ),
        ],
    ),
    Conversation(
        "email",
        "Reprint: 200 flyers arrived with a crease",
        "open",
        "normal",
        "ben",
        "production",
        6,
        [
            Turn(
                C,
                "About a third of the flyers in {order} have a crease across the middle, "
                "looks like the box was crushed in transit. Photos attached.",
            ),
            Turn(
                A,
                "Hi {first}, sorry about that, the courier clearly dropped something on it. "
                "I've booked a reprint of the full 500 and a claim with the courier. They ship "
                "tomorrow.",
                55,
            ),
            Turn(N, "Reprint booked against {perp}; courier claim opened with photos.", 3),
        ],
    ),
    Conversation(
        "sms",
        "Change of delivery address",
        "solved",
        "normal",
        "ben",
        None,
        70,
        [
            Turn(C, "Can {order} go to our new shop at 14 Mill Lane instead? Same postcode."),
            Turn(A, "Done {first}: {order} will go to 14 Mill Lane. It ships tomorrow.", 15),
            Turn(C, "Thanks!", 4),
        ],
    ),
    Conversation(
        "email",
        "Pantone match for the school fair banners",
        "open",
        "normal",
        "ana",
        "design",
        9,
        [
            Turn(
                C,
                "Our school colour is Pantone 347 C. Can you match it exactly on the vinyl "
                "banners? The last printer's green came out too yellow.",
            ),
            Turn(
                A,
                "Hi {first}, on vinyl we print CMYK, which gets very close to 347 C (we use "
                "C100 M0 Y90 K0 as a starting point). I'll include a printed swatch with the "
                "proof so you can check the colour before the full run.",
                60,
            ),
            Turn(C, "That would be great, thank you.", 120),
        ],
        proof="pending",
    ),
    Conversation(
        "whatsapp",
        "Can I add 100 more to my order?",
        "open",
        "normal",
        None,
        "sales",
        2,
        [
            Turn(
                C,
                "Hello! Can I add 100 more of the {product} to {order} before it prints? "
                "Happy to pay the difference.",
            ),
        ],
    ),
    Conversation(
        "facebook",
        "Quote for 300 branded tote bags",
        "pending",
        "normal",
        "manager",
        "sales",
        16,
        [
            Turn(
                C,
                "Hi, we'd like 300 cotton tote bags with our logo in one colour for a charity "
                "fun run. What's the price and how long does it take?",
            ),
            Turn(
                A,
                "Hi {first}! 300 natural cotton totes with a one-colour screen print come to "
                "£2.85 each (£855 + VAT), including setup. Turnaround is 8 working days from "
                "proof approval. Shall I send a proof?",
                90,
            ),
        ],
    ),
    Conversation(
        "email",
        "Order arrived damaged: torn packaging",
        "closed",
        "normal",
        "ben",
        "production",
        150,
        [
            Turn(C, "The box for {order} was torn open when it arrived, some cards are bent."),
            Turn(
                A,
                "Hi {first}, sorry to see that. We've reprinted the damaged pack and it's on "
                "its way, tracked.",
                80,
            ),
            Turn(C, "Received, all good now. Thanks.", 2880),
        ],
    ),
    Conversation(
        "email",
        "Urgent: wrong date on the event posters",
        "open",
        "urgent",
        "ana",
        "design",
        0.25,
        [
            Turn(
                C,
                "We just spotted the posters in {order} say Saturday 15th, it should be Sunday "
                "15th! Have they printed yet?? Please stop them if not.",
            ),
            Turn(N, "PERP shows {perp} in prepress: asked production to pause it.", 6),
        ],
        is_escalated=True,
    ),
    Conversation(
        "instagram",
        "Custom size stickers?",
        "solved",
        "low",
        "ben",
        None,
        90,
        [
            Turn(C, "do u do stickers in a custom shape? like the outline of our logo"),
            Turn(
                A,
                "We do! Die-cut to any shape, from 100 pieces. Send us your logo as a PDF or "
                "SVG and we'll add the cut line for you.",
                25,
            ),
        ],
    ),
    Conversation(
        "sms",
        "Collecting today?",
        "solved",
        "normal",
        "ben",
        "production",
        26,
        [
            Turn(C, "Is {order} ready to collect today? I can come after 4."),
            Turn(A, "Hi {first}, yes it's packed and at the front desk. Open until 5:30.", 8),
        ],
    ),
    Conversation(
        "email",
        "Proof v2 still shows the old phone number",
        "open",
        "high",
        "ana",
        "design",
        0.15,
        [
            Turn(
                C,
                "Thanks for the new proof, but the phone number on the back is still the old "
                "one (ending 442). It should end in 118.",
            ),
            Turn(N, "Designer missed the second correction. Fix and send v3 before 5 pm.", 20),
        ],
        proof="changes_requested",
    ),
    Conversation(
        "whatsapp",
        "Loyalty discount on reorder",
        "solved",
        "low",
        "manager",
        "sales",
        100,
        [
            Turn(C, "We reorder the same leaflets every month, is there a loyalty discount?"),
            Turn(
                A,
                "Hi {first}, there is: from your third repeat order you get 10% off, and your "
                "VIP wallet points apply too. I've added the discount to your account.",
                45,
            ),
        ],
    ),
    Conversation(
        "email",
        "Embroidered polos: sizing",
        "new",
        "normal",
        None,
        "sales",
        0.3,
        [
            Turn(
                C,
                "Before we order 40 embroidered polos for the team, do they run small? Could "
                "we get a sample of the M and L first?",
            ),
        ],
    ),
]

# Team chat: (channel slug, author username, text, minutes ago).
CHAT = [
    (
        "general",
        "manager",
        "Morning all! Press 2 is back from calibration, so reprints can go on it again.",
        600,
    ),
    ("general", "ana", "Thanks Maria. Reminder: the courier collects at 4 pm today, not 5.", 540),
    ("general", "ben", "Foil supplier says the gold stock arrives Wednesday morning.", 420),
    (
        "graphic-design",
        "ana",
        "Can someone move the back logo 5 mm in on the Patel proof? v2 needs to go out today.",
        300,
    ),
    (
        "graphic-design",
        "admin",
        "On it. Also fixing the phone number on the Levy Law cards, v3 in an hour.",
        290,
    ),
    (
        "graphic-design",
        "ana",
        "Thanks! The school banner needs a Pantone 347 C swatch with the proof.",
        200,
    ),
    (
        "production",
        "ben",
        "Rush banners for Saturday's market are on Thursday's run, collection not delivery.",
        180,
    ),
    (
        "production",
        "manager",
        "@ben please pause the event posters in prepress, wrong date on them.",
        45,
    ),
    ("production", "ben", "Paused. Waiting for the corrected file from design.", 40),
    (
        "sales",
        "manager",
        "The 5,000 menus a month enquiry gets tier 3 pricing, I'll send the quote today.",
        120,
    ),
    ("sales", "ana", "Tote bag quote for the charity run is out, 300 at £2.85.", 90),
    (
        "managers",
        "manager",
        "Reprints this week: two misprints, one courier damage. Claim opened for the flyers.",
        60,
    ),
]

# Ticket discussions ("Discuss in #channel" on a ticket): (channel slug, the subject of the
# ticket's script, who started it, the first message, [(who replied, text)], minutes ago).
DISCUSSIONS = [
    (
        "graphic-design",
        "Artwork at 72 dpi: will it print OK?",
        "ana",
        "The customer's A2 poster is 72 dpi (about 1650 px wide). Can we rebuild it from their "
        "logo files, or do we have to wait for their designer?",
        [
            (
                "admin",
                "Upscaling that to 300 dpi will look soft on the photo. The logo and the text I "
                "can redraw as vector in half an hour; the photo needs the original.",
            ),
            ("ana", "Thanks! I'll ask them for the original photo only and book the redraw."),
        ],
        70,
    ),
    (
        "production",
        "Rush: banners for Saturday's market",
        "ben",
        "Two 2x1 m vinyl banners for Saturday, same artwork as their last order with the date "
        "changed. OK to put them on Thursday's rush slot?",
        [("manager", "Yes, Thursday's 7 am run. Collection from Friday 2 pm, not delivery.")],
        50,
    ),
]
