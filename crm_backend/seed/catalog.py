"""Fixed vocabulary of the synthetic shop: products, names, places and ticket texts."""

# (sku, name, category, price). Products in one bundle are bought together more often.
BUNDLES: list[list[tuple[str, str, str, float]]] = [
    [("COF-100", "Espresso machine Barista Pro", "coffee", 449.00),
     ("COF-110", "Burr coffee grinder", "coffee", 129.00),
     ("COF-120", "Espresso beans 1 kg", "coffee", 18.90),
     ("COF-130", "Milk frothing jug", "coffee", 14.50)],
    [("COF-200", "Pour-over coffee set", "coffee", 39.00),
     ("COF-210", "Paper filters (100)", "coffee", 4.90),
     ("COF-220", "Filter coffee 500 g", "coffee", 9.90)],
    [("RUN-100", "Trail running shoes", "running", 139.00),
     ("RUN-110", "Running socks (3 pairs)", "running", 19.90),
     ("RUN-120", "Insulated water bottle", "running", 24.90),
     ("RUN-130", "Running belt", "running", 17.50)],
    [("RUN-200", "Road running shoes", "running", 119.00),
     ("RUN-210", "Reflective running vest", "running", 29.90),
     ("RUN-220", "GPS sports watch", "running", 249.00)],
    [("AUD-100", "Noise-cancelling headphones", "audio", 279.00),
     ("AUD-110", "Headphone travel case", "audio", 24.00),
     ("AUD-120", "USB-C audio adapter", "audio", 12.90)],
    [("AUD-200", "Wireless earbuds", "audio", 129.00),
     ("AUD-210", "Earbud ear tips (6 pairs)", "audio", 9.90),
     ("AUD-220", "Wireless charging pad", "audio", 29.90)],
    [("AUD-300", "Bluetooth speaker", "audio", 89.00),
     ("AUD-310", "Speaker wall mount", "audio", 19.00)],
    [("OFF-100", "Laptop stand", "home_office", 49.00),
     ("OFF-110", "Mechanical keyboard", "home_office", 119.00),
     ("OFF-120", "Ergonomic mouse", "home_office", 59.00),
     ("OFF-130", "Desk mat", "home_office", 22.00)],
    [("OFF-200", "LED desk lamp", "home_office", 69.00),
     ("OFF-210", "Monitor arm", "home_office", 99.00),
     ("OFF-220", "Cable organiser set", "home_office", 14.90)],
    [("OUT-100", "Two-person tent", "outdoor", 229.00),
     ("OUT-110", "Down sleeping bag", "outdoor", 189.00),
     ("OUT-120", "Camping stove", "outdoor", 59.00),
     ("OUT-130", "Inflatable sleeping pad", "outdoor", 79.00)],
    [("OUT-200", "Hiking backpack 40 l", "outdoor", 149.00),
     ("OUT-210", "Trekking poles", "outdoor", 69.00),
     ("OUT-220", "Headlamp", "outdoor", 34.90)],
    [("KIT-100", "Chef's knife", "kitchen", 89.00),
     ("KIT-110", "Knife sharpener", "kitchen", 29.00),
     ("KIT-120", "Bamboo cutting board", "kitchen", 24.90)],
    [("KIT-200", "Cast iron skillet", "kitchen", 59.00),
     ("KIT-210", "Silicone spatula set", "kitchen", 16.90),
     ("KIT-220", "Oven mitts", "kitchen", 14.90)],
    [("HOM-100", "Robot vacuum", "home", 399.00),
     ("HOM-110", "Vacuum replacement filters", "home", 19.90),
     ("HOM-120", "Air purifier", "home", 199.00)],
    [("HOM-200", "Smart thermostat", "home", 179.00),
     ("HOM-210", "Smart plug (2 pack)", "home", 29.90),
     ("HOM-220", "Door and window sensor", "home", 24.90)],
]

FIRST_NAMES = [
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Katrin",
    "Lukas", "Mia", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Samuel", "Tara", "Uwe",
    "Vera", "William", "Xenia", "Yusuf", "Zoe", "Amir", "Bianca", "Carlos", "Dana", "Elif",
    "Finn", "Hannah", "Ivan", "Julia", "Karim", "Lea", "Marco", "Nina", "Oskar", "Priya",
    "Rafael", "Sofia", "Tom", "Ula", "Viktor", "Wen", "Yara", "Leon", "Maja", "Chen", "Fatima",
    "Giulia", "Henrik", "Ingrid", "Jakob", "Laura", "Mateo", "Nora", "Omar",
]
LAST_NAMES = [
    "Schmidt", "Müller", "Jansen", "Dubois", "Rossi", "García", "Novak", "Kowalski", "Larsen",
    "Nilsson", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch",
    "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Zimmermann", "Hartmann",
    "Krüger", "Lange", "Werner", "Lehmann", "Martin", "Bernard", "Petit", "Moreau", "Laurent",
    "Bianchi", "Romano", "Costa", "Silva", "Santos", "de Vries", "Bakker", "Visser", "Smit",
    "Peeters", "Maes", "Horvat", "Popescu", "Yilmaz", "Kaya", "Öztürk", "Nowak", "Svensson",
    "Andersen", "Berg", "Haas", "Vogel", "Frank", "Roth", "Baumann",
]
# (city, postal code prefix, country)
PLACES = [
    ("Berlin", "10", "DE"), ("Hamburg", "20", "DE"), ("Munich", "80", "DE"),
    ("Cologne", "50", "DE"), ("Frankfurt", "60", "DE"), ("Leipzig", "04", "DE"),
    ("Vienna", "10", "AT"), ("Graz", "80", "AT"), ("Zurich", "80", "CH"),
    ("Amsterdam", "10", "NL"), ("Rotterdam", "30", "NL"), ("Brussels", "10", "BE"),
    ("Paris", "75", "FR"), ("Lyon", "69", "FR"), ("Copenhagen", "12", "DK"),
]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Lindenweg", "Gartenstraße", "Schulstraße",
           "Parkallee", "Kirchgasse", "Mühlenweg", "Am Markt", "Rosenstraße"]
CARRIERS = ["DHL", "UPS", "DPD", "GLS", "Hermes"]

# Ticket categories, with the opening customer messages that carry their signal.
# {product} and {order} are filled in; {mood} adds the customer's sentiment.
TICKET_TEXTS: dict[str, list[str]] = {
    "delivery_problem": [
        "My order {order} still hasn't arrived and tracking has not moved for days. {mood}",
        "The parcel for {order} was marked delivered but it is not here. {mood}",
        "The {product} arrived damaged, the box was crushed. {mood}",
        "I received the wrong item instead of the {product} from {order}. {mood}",
    ],
    "order_status": [
        "Can you tell me when {order} will be shipped? {mood}",
        "What is the status of my order {order} with the {product}? {mood}",
        "Has my order {order} left the warehouse yet? {mood}",
    ],
    "return_refund": [
        "I would like to return the {product} from {order}, it does not fit my needs. {mood}",
        "I sent the {product} back two weeks ago and still have no refund for {order}. {mood}",
        "How do I get a refund for {order}? The {product} is not what I expected. {mood}",
    ],
    "payment_problem": [
        "I was charged twice for {order}. {mood}",
        "My card was declined when paying for the {product}, but the money was taken. {mood}",
        "The payment for {order} failed but my bank shows it as pending. {mood}",
    ],
    "complaint": [
        "I am very unhappy with how my order {order} was handled. {mood}",
        "Your support took days to answer me about the {product}. {mood}",
        "This is the second time a delivery from you is late. {mood}",
    ],
    "report_problem": [
        "The {product} stopped working after a week. {mood}",
        "The checkout page shows an error when I try to pay. {mood}",
        "The app crashes when I open my order history. {mood}",
    ],
    "change_shipping_address": [
        "I moved, please send {order} to my new address instead. {mood}",
        "Can I change the delivery address for {order}? {mood}",
    ],
    "invoice_request": [
        "Please send me an invoice for {order} with my company name. {mood}",
        "I need a VAT invoice for the {product}. {mood}",
    ],
    "delete_account": [
        "Please delete my account and all my personal data. {mood}",
        "I want you to erase everything you store about me (GDPR). {mood}",
    ],
    "general": [
        "Do you sell gift cards for the {product}? {mood}",
        "Which warranty do I get on the {product}? {mood}",
        "Is the {product} going to be back in stock? {mood}",
    ],
}
MOODS = {
    "negative": ["This is really frustrating.", "I am disappointed.",
                 "Honestly this is unacceptable.", "I expected better."],
    "neutral": ["", "Thanks.", "Please let me know.", "Regards."],
    "positive": ["Thanks a lot for your help!", "Love the shop otherwise!",
                 "You have always been great so far."],
}
AGENT_REPLIES = [
    "Thanks for reaching out. I have looked into this and will get back to you shortly.",
    "Sorry for the trouble! I have forwarded this to our warehouse team.",
    "I have checked your order and updated it. Is there anything else I can do?",
    "Thank you for your patience. The issue is now resolved on our side.",
]
CAMPAIGNS = [
    # name, channel, offer code, public, audience
    ("Spring coffee week", "email", "COFFEE15", False,
     {"all": [{"field": "marketing_consent", "op": "eq", "value": True}]}),
    ("Running season", "email", "RUN10", False,
     {"all": [{"field": "marketing_consent", "op": "eq", "value": True},
              {"field": "orders_count", "op": "gte", "value": 1}]}),
    ("Win-back: we miss you", "email", "COMEBACK20", False,
     {"all": [{"field": "marketing_consent", "op": "eq", "value": True},
              {"field": "days_since_last_order", "op": "gt", "value": 120}]}),
    ("Free shipping weekend", "web", "FREESHIP", True, {}),
    ("Chat-only headphone deal", "chat", "CHAT25", True, {}),
]
