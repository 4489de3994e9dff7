"""Fixed reference data for the demo: the store's catalogue, where customers live, who ships.

Every domain here is reserved for examples (RFC 2606 / RFC 6761), so no demo reply can reach a
real mailbox, whatever mail server the desk is configured with.
"""

from dataclasses import dataclass
from decimal import Decimal

STORE_URL = "https://shop.example"


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str
    price: Decimal
    sized: bool = False  # apparel and footwear: the "exchange for another size" conversations

    @property
    def url(self) -> str:
        slug = "".join(c if c.isalnum() else "-" for c in self.name.lower()).strip("-").replace("--", "-")
        return f"{STORE_URL}/p/{slug}"


def _items() -> list[Item]:
    rows = [
        ("Footwear", True, ["Trail Runner GTX|129.95", "Summit Hiking Boots|189.00", "Approach Shoe Flex|119.50",
                            "Alpine Winter Boots|219.00", "Recovery Sandals|49.95", "Waterproof Gaiters|34.90"]),
        ("Clothing", True, ["Storm Shell Jacket|249.00", "Down Puffer Jacket|199.00", "Merino Base Layer|79.90",
                            "Fleece Midlayer|89.00", "Softshell Trousers|119.00", "Rain Overtrousers|69.90",
                            "Hiking Socks (3-pack)|24.90", "Sun Hat|29.95", "Windproof Gloves|39.90"]),
        ("Camping", False, ["Ultralight Tent 2P|349.00", "Three-Season Sleeping Bag|179.00",
                            "Inflatable Sleeping Mat|99.00", "Camping Stove Kit|64.50", "Titanium Cook Pot|44.90",
                            "Camp Chair Lite|59.00", "Water Filter Bottle|39.95", "Hammock with Straps|74.00"]),
        ("Bags", False, ["Daypack 22L|89.00", "Trekking Pack 45L|189.00", "Dry Bag Set|34.50", "Hip Pack|39.00",
                         "Duffel 60L|119.00"]),
        ("Accessories", False, ["Trekking Poles Carbon|129.00", "Insulated Flask 750ml|34.95", "First Aid Kit|29.90",
                                "Compass Pro|39.00", "Microspikes|59.95", "Sunglasses Glacier|89.00"]),
        ("Electronics", False, ["Headlamp 400|49.90", "GPS Watch Trail|329.00", "Solar Power Bank|69.00",
                                "Satellite Messenger|279.00", "Action Camera Mount|24.90",
                                "Rechargeable Lantern|44.00"]),
    ]  # fmt: skip
    items = []
    for category, sized, entries in rows:
        for entry in entries:
            name, price = entry.split("|")
            items.append(Item(f"SKU-{len(items) + 1001}", name, category, Decimal(price), sized))
    return items


ITEMS: list[Item] = _items()
SEARCHES = ["waterproof jacket", "tent 2 person", "boots size 42", "merino", "headlamp", "gift card",
            "sleeping bag -5", "trail shoes women", "backpack 30l", "gps watch"]  # fmt: skip


@dataclass(frozen=True)
class Place:
    locale: str
    country: str
    faker: str
    timezones: tuple[str, ...]
    carriers: tuple[str, ...]
    weight: int


# Locale, country, timezone and carrier agree with each other; weights shape the customer base.
PLACES = [
    Place("en", "GB", "en_GB", ("Europe/London",), ("Royal Mail", "DPD"), 14),
    Place("en", "IE", "en_GB", ("Europe/Dublin",), ("An Post", "DPD"), 4),
    Place("en", "US", "en_US", ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
          ("UPS", "FedEx"), 16),
    Place("en", "CA", "en_US", ("America/Toronto", "America/Vancouver"), ("Canada Post", "UPS"), 4),
    Place("es", "ES", "es_ES", ("Europe/Madrid", "Atlantic/Canary"), ("Correos", "SEUR"), 16),
    Place("es", "MX", "es_ES", ("America/Mexico_City",), ("Estafeta", "DHL"), 6),
    Place("fr", "FR", "fr_FR", ("Europe/Paris",), ("Colissimo", "Chronopost"), 12),
    Place("fr", "BE", "fr_FR", ("Europe/Brussels",), ("bpost", "DPD"), 3),
    Place("de", "DE", "de_DE", ("Europe/Berlin",), ("DHL", "Hermes"), 17),
    Place("de", "AT", "de_DE", ("Europe/Vienna",), ("Post AG", "DHL"), 4),
    Place("de", "CH", "de_DE", ("Europe/Zurich",), ("Swiss Post", "DHL"), 4),
]  # fmt: skip

EMAIL_DOMAINS = {
    "en": ("example.com", "example.net", "mail.example"),
    "es": ("example.com", "correo.example", "example.org"),
    "fr": ("example.com", "courriel.example", "example.org"),
    "de": ("example.com", "post.example", "example.net"),
}
SOCIAL_NETWORKS = ("twitter", "instagram", "facebook")

# What people are called by their friends; some customers ask the desk to use it.
NICKNAMES = {
    "Elizabeth": "Liz", "William": "Will", "Robert": "Rob", "Katherine": "Kate", "Alexander": "Alex",
    "Margaret": "Maggie", "Christopher": "Chris", "Jennifer": "Jen", "Michael": "Mike", "Daniel": "Dan",
    "Rebecca": "Becky", "Benjamin": "Ben", "Thomas": "Tom", "Samuel": "Sam", "Nicholas": "Nick",
    "Matthew": "Matt", "Joshua": "Josh", "Jonathan": "Jon", "Andrew": "Andy", "Anthony": "Tony",
    "Francisco": "Paco", "José": "Pepe", "Manuel": "Manolo", "Dolores": "Lola", "Ignacio": "Nacho",
    "Guadalupe": "Lupe", "Concepción": "Concha", "Alejandro": "Álex", "Alexandre": "Alex", "Frédéric": "Fred",
    "Christophe": "Chris", "Nathalie": "Nat", "Catherine": "Cathy", "Maximilian": "Max", "Johannes": "Hannes",
    "Katharina": "Kathi", "Stefanie": "Steffi", "Alexandra": "Alex", "Wolfgang": "Wolfi", "Susanne": "Susi",
}  # fmt: skip
