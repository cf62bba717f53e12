"""Demo data for a fresh install: a small support organisation with two months of history.

Everything a user can see is written through the services (open_case, add_reply, add_note, assign_case,
update_case, create_customer, record_external_event ...), so every case, interaction, timeline entry,
audit record and outbox event is exactly what production would write for the same story. Only agents and
teams, which have no create service yet, go straight through the store's unit of work.

The history is backdated: the services take their time from `deps.clock`, so the seeder builds its own
platform over the same table with a `FixedClock` that it moves to each moment of the story. The runtime's
own platform keeps the system clock. The story is drawn from a seeded `random.Random` and the ids from a
seeded ULID generator, so the same seed and the same start time give the same data.

Demo customers get addresses under reserved example domains (RFC 2606), so nothing can reach a real inbox.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from .. import bootstrap
from ..adapters import keys
from ..domain.agents import Agent, Availability, Team
from ..domain.auth import SYSTEM, Principal, Role
from ..domain.case import Case, CaseStatus, Priority
from ..domain.common import Channel, Money
from ..domain.customer import Customer, CustomerTier
from ..domain.interaction import AttachmentRef
from ..domain.timeline import TimelineKind
from ..ports.clock import Clock, FixedClock
from ..services import cases as case_service
from ..services import customers as customer_service
from ..services.attachments import attachment_key
from ..services.commands import (
    AddNote,
    AddReply,
    AssignCase,
    CreateCustomer,
    CustomerRef,
    OpenCase,
    RecordTimelineEvent,
    UpdateCase,
    UpdateCustomer,
)
from ..services.context import Deps, Request
from .demo_files import device_log, screenshot_png

HISTORY_DAYS = 60
CUSTOMERS = 56
CASES = 220
SEED_MARKER = "demo_seed"
FILES_EVERY = 20  # every 20th case story: the customer sends a screenshot, the agent's note carries a log
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


# --- ids and results ------------------------------------------------------------------------------------
class SeededIds:
    """ULIDs with the time of the story and a random part from a seeded generator: reproducible demo ids."""

    def __init__(self, rng: random.Random, clock: Clock) -> None:
        self._rng = rng
        self._clock = clock

    def new(self, at: datetime | None = None) -> str:
        when = at or self._clock.now()
        value = (int(when.timestamp() * 1000) << 80) | self._rng.getrandbits(80)
        # 130 bits of base32 are the 128-bit value after two zero bits: shift into 17 bytes, encode, re-letter.
        encoded = base64.b32encode((value << 6).to_bytes(17, "big"))[:26]
        return encoded.decode().translate(_TO_CROCKFORD)


@dataclass(frozen=True)
class Login:
    """A person the local runtime prints a dev token for."""

    name: str
    email: str
    role: Role
    caseline_id: str


@dataclass
class SeedSummary:
    created: bool
    teams: int = 0
    agents: int = 0
    customers: int = 0
    cases: int = 0
    external_events: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    seconds: float = 0.0


# --- staff ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TeamSpec:
    key: str
    name: str
    description: str
    time_zone: str


TEAMS = (
    TeamSpec(
        "billing", "Billing", "Invoices, refunds, payment methods and subscription changes.", "Europe/Berlin"
    ),
    TeamSpec(
        "tech",
        "Technical Support",
        "App crashes, sign-in trouble, device pairing and the public API.",
        "Europe/Madrid",
    ),
    TeamSpec(
        "success",
        "Customer Success",
        "Onboarding, account reviews, renewals and anyone thinking of leaving.",
        "America/New_York",
    ),
)


@dataclass(frozen=True)
class StaffSpec:
    name: str
    handle: str
    role: Role
    team: str
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    availability: Availability
    time_zone: str
    manages: bool = False


STAFF = (
    StaffSpec(
        "Ada Lindqvist",
        "ada",
        Role.ADMIN,
        "success",
        ("escalations", "contracts", "billing"),
        ("en", "de"),
        Availability.ONLINE,
        "Europe/Stockholm",
        manages=True,
    ),
    StaffSpec(
        "Bruno Keller",
        "bruno",
        Role.SUPERVISOR,
        "billing",
        ("refunds", "invoicing", "vat"),
        ("de", "en"),
        Availability.ONLINE,
        "Europe/Berlin",
        manages=True,
    ),
    StaffSpec(
        "Carmen Ortega",
        "carmen",
        Role.SUPERVISOR,
        "tech",
        ("mobile-app", "api", "escalations"),
        ("es", "en"),
        Availability.AWAY,
        "Europe/Madrid",
        manages=True,
    ),
    StaffSpec(
        "Dev Raman",
        "dev",
        Role.AGENT,
        "tech",
        ("api", "integrations", "webhooks"),
        ("en",),
        Availability.ONLINE,
        "Asia/Kolkata",
    ),
    StaffSpec(
        "Elif Aydin",
        "elif",
        Role.AGENT,
        "tech",
        ("mobile-app", "devices", "sign-in"),
        ("en", "de"),
        Availability.ONLINE,
        "Europe/Berlin",
    ),
    StaffSpec(
        "Felix Brandt",
        "felix",
        Role.AGENT,
        "billing",
        ("payments", "subscriptions"),
        ("de", "en"),
        Availability.OFFLINE,
        "Europe/Vienna",
    ),
    StaffSpec(
        "Grace Mensah",
        "grace",
        Role.AGENT,
        "success",
        ("onboarding", "training", "renewals"),
        ("en",),
        Availability.ONLINE,
        "Europe/London",
    ),
    StaffSpec(
        "Hugo Salas",
        "hugo",
        Role.AGENT,
        "billing",
        ("payments", "refunds", "latam"),
        ("es", "en"),
        Availability.AWAY,
        "America/Mexico_City",
    ),
    StaffSpec(
        "Irene Vidal",
        "irene",
        Role.AGENT,
        "tech",
        ("devices", "firmware", "networking"),
        ("es", "en"),
        Availability.ONLINE,
        "Europe/Madrid",
    ),
    StaffSpec(
        "Jonas Falk",
        "jonas",
        Role.AGENT,
        "success",
        ("renewals", "data-exports", "training"),
        ("de", "en", "es"),
        Availability.OFFLINE,
        "Europe/Zurich",
    ),
)


# --- customers ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Country:
    code: str
    locale: str
    zones: tuple[str, ...]
    currency: str
    dial: str
    digits: int
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


COUNTRIES = (
    Country(
        "US",
        "en-US",
        ("America/New_York", "America/Chicago", "America/Los_Angeles"),
        "USD",
        "1",
        10,
        ("Marcus", "Jenna", "Tyler", "Rosa", "Dwayne", "Hannah"),
        ("Whitfield", "Calloway", "Brennan", "Okoro", "Lindgren", "Pruitt"),
    ),
    Country(
        "CA",
        "en-CA",
        ("America/Toronto", "America/Vancouver"),
        "CAD",
        "1",
        10,
        ("Mathieu", "Priya", "Colin", "Naomi"),
        ("Tremblay", "Gagnon", "MacLeod", "Sandhu"),
    ),
    Country(
        "GB",
        "en-GB",
        ("Europe/London",),
        "GBP",
        "44",
        10,
        ("Oliver", "Imogen", "Rhys", "Niamh", "Callum"),
        ("Pemberton", "Ashworth", "Hughes", "Doyle", "Banerjee"),
    ),
    Country(
        "IE",
        "en-IE",
        ("Europe/Dublin",),
        "EUR",
        "353",
        9,
        ("Siobhan", "Cian", "Aoife", "Ronan"),
        ("Gallagher", "Byrne", "Kavanagh", "Quinlan"),
    ),
    Country(
        "DE",
        "de-DE",
        ("Europe/Berlin",),
        "EUR",
        "49",
        10,
        ("Katrin", "Lukas", "Sabine", "Matthias", "Jana", "Tobias"),
        ("Hoffmann", "Schreiber", "Lehmann", "Vogt", "Brückner", "Neumann"),
    ),
    Country(
        "AT",
        "de-AT",
        ("Europe/Vienna",),
        "EUR",
        "43",
        10,
        ("Florian", "Theresa", "Bernhard", "Magdalena"),
        ("Gruber", "Huber", "Wallner", "Pichler"),
    ),
    Country(
        "CH",
        "de-CH",
        ("Europe/Zurich",),
        "CHF",
        "41",
        9,
        ("Reto", "Corinne", "Urs", "Seraina"),
        ("Meier", "Baumann", "Frei", "Zürcher"),
    ),
    Country(
        "ES",
        "es-ES",
        ("Europe/Madrid",),
        "EUR",
        "34",
        9,
        ("Lucía", "Javier", "Marta", "Álvaro", "Nuria"),
        ("Navarro", "Iglesias", "Castro", "Rubio", "Ferrer"),
    ),
    Country(
        "MX",
        "es-MX",
        ("America/Mexico_City",),
        "MXN",
        "52",
        10,
        ("Diego", "Valeria", "Emilio", "Ximena"),
        ("Hernández", "Villanueva", "Arriaga", "Cervantes"),
    ),
    Country(
        "AR",
        "es-AR",
        ("America/Argentina/Buenos_Aires",),
        "ARS",
        "54",
        10,
        ("Martina", "Santiago", "Camila", "Tomás"),
        ("Benítez", "Sosa", "Aguirre", "Medina"),
    ),
    Country(
        "IN",
        "en-IN",
        ("Asia/Kolkata",),
        "INR",
        "91",
        10,
        ("Ananya", "Rohan", "Kavya", "Arjun"),
        ("Iyer", "Kulkarni", "Menon", "Bhatt"),
    ),
    Country(
        "AU",
        "en-AU",
        ("Australia/Sydney", "Australia/Perth"),
        "AUD",
        "61",
        9,
        ("Lachlan", "Chloe", "Mitchell", "Zara"),
        ("Fitzgerald", "Nguyen", "Harding", "Costa"),
    ),
)
MAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example",
    "brightlane.example",
    "harbourworks.example",
)
LTV_RANGE = {
    CustomerTier.STANDARD: (40, 900),
    CustomerTier.PREMIUM: (900, 6_000),
    CustomerTier.VIP: (6_000, 48_000),
}
# Rough exchange rates to EUR, so lifetime values look plausible in each currency.
FX = {
    "USD": 1.1,
    "CAD": 1.5,
    "GBP": 0.85,
    "EUR": 1.0,
    "CHF": 0.95,
    "MXN": 19.0,
    "ARS": 950.0,
    "INR": 92.0,
    "AUD": 1.65,
}


# --- the stories: what customers write about and how agents answer ----------------------------------------
@dataclass(frozen=True)
class Scenario:
    key: str
    team: str
    category: str
    tags: tuple[str, ...]
    subjects: tuple[str, ...]
    opening: dict[str, tuple[str, ...]]  # by language; English always present
    replies: tuple[str, ...]
    follow_ups: tuple[str, ...]
    solutions: tuple[str, ...]
    notes: tuple[str, ...]
    precursor: TimelineKind | None = None
    priority: Priority = Priority.NORMAL


SCENARIOS = (
    Scenario(
        "double_charge",
        "billing",
        "billing",
        ("double-charge", "refund"),
        ("Charged twice for my {plan} subscription", "Two identical charges of {amount} this month"),
        {
            "en": (
                "Hi, my card statement shows {amount} taken twice on the same day for the {plan} plan. "
                "I only have one account. Can you refund the second one?",
                "Hello - I was billed twice for {plan} this month ({amount} each). Please sort this out.",
            ),
            "de": (
                "Hallo, auf meiner Kreditkartenabrechnung wurde der {plan}-Tarif zweimal abgebucht, je "
                "{amount}. "
                "Ich habe nur ein Konto. Bitte erstatten Sie die zweite Zahlung.",
            ),
            "es": (
                "Hola, me habéis cobrado dos veces el plan {plan} este mes ({amount} cada vez). "
                "Solo tengo una cuenta. ¿Podéis devolverme uno de los cargos?",
            ),
        },
        (
            "Hi {name}, thanks for flagging this. I can see two charges of {amount} on {invoice}; the "
            "second came "
            "from a retry after a timeout at our payment provider. I've started the refund - could you "
            "confirm the "
            "last four digits of the card so I can match it?",
        ),
        (
            "The card ends in {digits}. Thanks for looking into it so quickly.",
            "It's the card ending {digits}. How long will the refund take?",
        ),
        (
            "The refund of {amount} is on its way to the card ending {digits}; banks usually show it within "
            "5 "
            "business days. Sorry for the trouble, {name}!",
        ),
        (
            "@{mention} duplicate charge confirmed on {invoice}, refund needs a second approval above 100.",
            "Retry storm at the provider again - @{mention} is this the same incident as last week?",
        ),
        precursor=TimelineKind.PAYMENT,
        priority=Priority.HIGH,
    ),
    Scenario(
        "refund_order",
        "billing",
        "refund",
        ("refund", "returns"),
        ("Refund for order {order}", "Returned the {device}, still no refund"),
        {
            "en": (
                "I sent back the {device} from order {order} two weeks ago and the tracking shows it "
                "arrived. "
                "I haven't seen the refund yet.",
            ),
            "es": (
                "Devolví el {device} del pedido {order} hace dos semanas y el seguimiento dice que llegó. "
                "Todavía no veo el reembolso.",
            ),
        },
        (
            "Hi {name}, I've checked order {order}: the {device} reached our warehouse and passed "
            "inspection. "
            "The refund of {amount} is approved and should be processed within two days.",
        ),
        (
            "Great, thank you. Will it go back to the original card?",
            "Thanks. I'd rather have store credit if that's quicker - is that possible?",
        ),
        (
            "All done: {amount} was refunded to your original payment method today. You'll get a "
            "confirmation "
            "email from our billing system as well.",
        ),
        ("Warehouse confirmed the return for {order}; @{mention} can you release the refund batch today?",),
        precursor=TimelineKind.ORDER,
    ),
    Scenario(
        "vat_invoice",
        "billing",
        "invoicing",
        ("invoice", "vat"),
        ("Invoice {invoice} is missing our VAT number", "Need a corrected invoice for our accountant"),
        {
            "en": (
                "Our finance team rejected invoice {invoice} because our VAT ID isn't on it. "
                "Could you reissue it with the company details from our account?",
            ),
            "de": (
                "Unsere Buchhaltung hat die Rechnung {invoice} zurückgewiesen, weil unsere USt-IdNr. fehlt. "
                "Können Sie die Rechnung mit den Firmendaten aus unserem Konto neu ausstellen?",
            ),
        },
        (
            "Hi {name}, happy to help. Please send the VAT ID exactly as registered and I'll issue a "
            "corrected "
            "invoice that replaces {invoice}.",
        ),
        (
            "Here it is: DE{digits}58213. The company name should read exactly as on our account.",
            "Our VAT ID is in the attached registration letter. Thanks!",
        ),
        (
            "The corrected invoice is attached and {invoice} is cancelled in our system. From now on the "
            "VAT ID "
            "will be printed on every invoice automatically.",
        ),
        ("@{mention} VAT ID format checked against the EU register, ok to reissue.",),
    ),
    Scenario(
        "card_declined",
        "billing",
        "payments",
        ("payment-failed", "renewal"),
        ("Card declined when renewing {plan}", "Renewal failed - will I lose access?"),
        {
            "en": (
                "I got an email saying my {plan} renewal failed. The card is valid and has funds. "
                "I don't want the account to be suspended.",
            ),
            "es": (
                "Me llegó un correo diciendo que la renovación del plan {plan} falló. La tarjeta es válida. "
                "No quiero que suspendan la cuenta.",
            ),
        },
        (
            "Hi {name}, your account stays active for 14 days after a failed renewal, so nothing is lost. "
            "The bank declined with code 05 ('do not honour'); that usually clears after you approve the "
            "payment in "
            "your banking app. Could you try again from Settings > Billing?",
        ),
        (
            "Tried again and it went through this time. Thanks!",
            "Still failing. I've added a different card now.",
        ),
        (
            "The renewal of {amount} succeeded and your {plan} plan runs until next month. I've cleared the "
            "payment warning from your account.",
        ),
        ("Third failed renewal for this customer this year - @{mention} should we offer invoice billing?",),
        precursor=TimelineKind.PAYMENT,
    ),
    Scenario(
        "plan_change",
        "billing",
        "subscription",
        ("plan-change",),
        ("Switch from {plan} to annual billing", "Downgrade to the Starter plan"),
        {
            "en": (
                "We'd like to move our {plan} subscription to yearly billing. Do we get the discount "
                "straight "
                "away, and what happens to the rest of this month?",
            )
        },
        (
            "Hi {name}, yes - the annual price applies from the switch, and the unused part of this month is "
            "credited on the first annual invoice.",
        ),
        ("Sounds good, please go ahead.", "OK. Can you make the change effective on the 1st?"),
        ("Done: you're on annual {plan} billing now. The credit for this month shows on invoice {invoice}.",),
        ("Proration looks off by a day for this customer, @{mention} can you double-check?",),
        priority=Priority.LOW,
    ),
    Scenario(
        "app_crash",
        "tech",
        "bug",
        ("crash", "mobile-app"),
        ("App crashes when I open the energy report", "Lumen app closes right after the splash screen"),
        {
            "en": (
                "Since the last update the Lumen app on my phone crashes every time I open the energy "
                "report. "
                "I've restarted the phone and reinstalled, same result.",
            ),
            "de": (
                "Seit dem letzten Update stürzt die Lumen-App ab, sobald ich den Energiebericht öffne. "
                "Neustart und Neuinstallation haben nichts geändert.",
            ),
            "es": (
                "Desde la última actualización la app de Lumen se cierra cada vez que abro el informe de "
                "energía. Ya reinicié el móvil y la reinstalé.",
            ),
        },
        (
            "Hi {name}, thanks for the details - our crash reports show the same problem in app version "
            "{version} "
            "when a report covers more than a year. A fix is in testing. Until then, picking a shorter date "
            "range "
            "avoids the crash.",
        ),
        (
            "The shorter range works, thanks. Let me know when the fix is out.",
            "Workaround is fine for now, but I need the yearly view for my landlord.",
        ),
        (
            "Version {version_next} is now in the app stores and fixes the crash. After updating, the yearly "
            "report opens normally. Thanks for your patience, {name}!",
        ),
        (
            "Matches crash group {crash}; @{mention} is the fix in the next release train?",
            "Same stack trace as the other reports this week. @{mention} FYI.",
        ),
        precursor=TimelineKind.CRASH_REPORT,
        priority=Priority.HIGH,
    ),
    Scenario(
        "sign_in",
        "tech",
        "account-access",
        ("sign-in", "2fa"),
        ("Can't sign in after changing my phone", "Locked out - two-factor codes not accepted"),
        {
            "en": (
                "I moved to a new phone and now the two-factor codes are always rejected. I can't get into "
                "my "
                "account at all.",
            ),
            "de": (
                "Ich habe ein neues Handy und jetzt werden die Zwei-Faktor-Codes immer abgelehnt. "
                "Ich komme nicht mehr in mein Konto.",
            ),
        },
        (
            "Hi {name}, this happens when the authenticator app wasn't moved with its secrets. For your "
            "security "
            "I've sent a verification link to your account email; once you confirm it I can reset two-factor "
            "sign-in.",
        ),
        ("Confirmed - I clicked the link.", "Done. Please reset it, I need to turn the heating on remotely."),
        (
            "Two-factor sign-in is reset. Sign in with your password and you'll be asked to set up the "
            "authenticator again on the new phone.",
        ),
        ("Identity verified via email link, @{mention} approving the 2FA reset.",),
        priority=Priority.URGENT,
    ),
    Scenario(
        "device_offline",
        "tech",
        "devices",
        ("device", "wifi"),
        ("{device} shows offline since yesterday", "Thermostat keeps dropping off the Wi-Fi"),
        {
            "en": (
                "My {device} has shown 'offline' in the app since yesterday even though the router is fine "
                "and other devices are connected.",
            ),
            "es": (
                "Mi {device} aparece 'sin conexión' en la app desde ayer, aunque el router funciona y los "
                "demás dispositivos están conectados.",
            ),
        },
        (
            "Hi {name}, could you hold the button on the {device} for 5 seconds until the light blinks "
            "blue, then "
            "re-add it in the app? Also, is your router broadcasting 2.4 GHz? The {device} can't use 5 GHz.",
        ),
        (
            "I re-added it and it's online again. Let's see if it stays that way.",
            "The router only does 5 GHz apparently. What now?",
        ),
        (
            "Glad it's back. Firmware {version} on the {device} also reconnects faster after router "
            "restarts; it "
            "installs automatically tonight.",
        ),
        ("Possible firmware issue on this hardware revision, @{mention} have we seen this batch before?",),
    ),
    Scenario(
        "api_limits",
        "tech",
        "api",
        ("api", "rate-limit"),
        ("API returns 429 during our nightly import", "Webhook deliveries arriving twice"),
        {
            "en": (
                "Our nightly sync calls /v2/readings for about 3,000 devices and since Monday we get HTTP "
                "429 "
                "after a few hundred requests. Did the limits change?",
            )
        },
        (
            "Hi {name}, the limit is 20 requests per second per key and it hasn't changed, but your key now "
            "sends "
            "bursts of about 60 per second. Could you add a small delay or use the batch endpoint, which "
            "takes 100 "
            "devices per call?",
        ),
        (
            "Switched to the batch endpoint, the import finished without errors.",
            "We can't change the job before next sprint. Could you raise the limit temporarily?",
        ),
        (
            "Great to hear. I've also raised your key to 40 requests per second for peaks, which should "
            "give you "
            "headroom for growth.",
        ),
        ("@{mention} customer asks for a temporary limit increase, ok for two weeks?",),
    ),
    Scenario(
        "onboarding",
        "success",
        "onboarding",
        ("onboarding", "b2b"),
        ("Setting up 40 devices for our office building", "Help with the team workspace"),
        {
            "en": (
                "We're rolling out Lumen thermostats in our office building. What's the best way to add 40 "
                "devices and give the facilities team access without sharing one login?",
            ),
            "de": (
                "Wir führen Lumen-Thermostate in unserem Bürogebäude ein. Wie fügen wir am besten 40 Geräte "
                "hinzu und geben dem Facility-Team Zugriff, ohne ein gemeinsames Login?",
            ),
        },
        (
            "Hi {name}, welcome aboard! Bulk setup works with a CSV of serial numbers under Workspace > "
            "Devices > "
            "Import, and each colleague can get their own login with the 'facilities' role. Would a "
            "30-minute call "
            "this week help?",
        ),
        (
            "A call would be great - Thursday afternoon works for us.",
            "The CSV import worked for 38 devices, 2 were rejected.",
        ),
        (
            "Thanks for the call today! Summary: all 40 devices are in the workspace, three facility "
            "managers have "
            "their own logins, and the weekly energy report goes to your team inbox.",
        ),
        ("New B2B account, 40 devices - @{mention} please loop in for the onboarding call.",),
    ),
    Scenario(
        "data_export",
        "success",
        "how-to",
        ("export", "reports"),
        ("Can we export readings to CSV every week?", "Scheduled export for our energy consultant"),
        {
            "en": (
                "Our energy consultant needs the hourly readings each week. Is there a way to schedule a CSV "
                "export instead of downloading it by hand?",
            )
        },
        (
            "Hi {name}, yes: under Reports > Exports you can schedule a weekly CSV and add the consultant's "
            "email. "
            "Exports cover the previous Monday to Sunday.",
        ),
        (
            "Found it, thanks. Can the export include the outdoor temperature too?",
            "Perfect, that's exactly what we needed.",
        ),
        ("Outdoor temperature is now a column you can tick in the export settings. Enjoy the reports!",),
        ("Feature request: outdoor temperature in exports. @{mention} is that on the roadmap?",),
        priority=Priority.LOW,
    ),
    Scenario(
        "cancellation",
        "success",
        "retention",
        ("cancellation", "churn-risk"),
        ("I want to cancel my subscription", "Thinking about cancelling {plan}"),
        {
            "en": (
                "Honestly we barely use the premium features and {amount} a month is a lot right now. "
                "How do I cancel?",
            ),
            "es": (
                "La verdad es que casi no usamos las funciones premium y {amount} al mes es mucho ahora "
                "mismo. "
                "¿Cómo cancelo?",
            ),
        },
        (
            "Hi {name}, sorry to hear that. Before you go: the Basic plan keeps your schedules and history "
            "for a "
            "third of the price, and I can pause billing for up to two months if that helps.",
        ),
        (
            "Pausing for two months sounds fair, let's do that.",
            "No thanks, please cancel at the end of the month.",
        ),
        (
            "Done - your billing is paused and restarts on the date shown in Settings. Everything stays as "
            "it is "
            "until then.",
        ),
        ("VIP customer at risk - @{mention} can we offer the loyalty discount?",),
        priority=Priority.HIGH,
    ),
    Scenario(
        "delivery",
        "billing",
        "shipping",
        ("shipping", "order"),
        ("Where is my order {order}?", "Order {order} delivered to the wrong address"),
        {
            "en": (
                "I ordered a {device} ({order}) eight days ago and tracking hasn't moved since it left the "
                "warehouse.",
            ),
            "de": (
                "Ich habe vor acht Tagen einen {device} bestellt ({order}) und die Sendungsverfolgung hat "
                "sich "
                "seit dem Versand nicht bewegt.",
            ),
        },
        (
            "Hi {name}, I've opened an investigation with the carrier for order {order}. If the parcel "
            "isn't found "
            "within two business days we'll send a replacement free of charge.",
        ),
        ("Any news from the carrier?", "It just showed up at my neighbour's, all good!"),
        (
            "The carrier confirmed the loss, so a replacement {device} shipped today by express. Tracking "
            "follows "
            "in a separate email.",
        ),
        ("Carrier claim opened for {order}; @{mention} please approve an express replacement.",),
        precursor=TimelineKind.ORDER,
    ),
    Scenario(
        "account_update",
        "success",
        "account",
        ("account", "gdpr"),
        ("Please update the company name on our account", "Request a copy of my data"),
        {
            "en": (
                "We've rebranded and the company name on our account and invoices should change. Also, could "
                "you send me a copy of the personal data you keep about me?",
            )
        },
        (
            "Hi {name}, I've changed the company name; new invoices will show it. For the data copy I've "
            "started "
            "an export - you'll get a download link by email within 24 hours.",
        ),
        ("Got the link, thanks.", "Thanks - the new name looks right on the portal."),
        (
            "Everything's done: company name updated and the data export delivered. Let us know if anything "
            "else "
            "should change.",
        ),
        ("Data export requested, @{mention} FYI for the GDPR log.",),
        priority=Priority.LOW,
    ),
)
SCENARIO_WEIGHTS = (9, 7, 5, 7, 4, 9, 7, 8, 4, 4, 4, 4, 7, 3)

OPENING_LOCALIZED_REPLY = {
    "de": (
        "Hallo {name}, danke für Ihre Nachricht. Ich habe mir das angesehen und melde mich heute noch mit "
        "einer Lösung."
    ),
    "es": (
        "Hola {name}, gracias por escribirnos. Ya estoy revisando tu caso y te escribo hoy mismo con una "
        "solución."
    ),
}
SIGN_OFF = {"en": "Best,\n{agent}", "de": "Viele Grüße\n{agent}", "es": "Un saludo,\n{agent}"}
SOLVED_AGAIN = (
    "Thanks for telling us, {name}. It turned out there was a second cause, which is fixed now as well. "
    "Just reply here if it comes back.",
    "Sorry about that, {name}. I've applied the fix once more and checked it myself this time - it holds.",
)
FOLLOW_UP_NEW = ("Any update on this?", "Just checking you got my message.", "Is anyone looking at this?")
THANKS = (
    "Thanks, that fixed it!",
    "Perfect, thank you for the quick help.",
    "All good now, much appreciated.",
)
REOPEN = ("Sorry, it's happening again since this morning.", "It worked for a day but the problem is back.")
ON_HOLD_NOTES = (
    "Waiting on the carrier's investigation - putting this on hold. @{mention} FYI.",
    "Escalated to engineering (ticket ENG-{digits}); on hold until they reply. @{mention}",
    "Payment provider is checking their logs, on hold. @{mention} please keep an eye on it.",
)
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 34,
    Channel.CHAT: 20,
    Channel.PHONE: 14,
    Channel.WEB: 18,
    Channel.SOCIAL: 6,
    Channel.API: 8,
}
STATUS_WEIGHTS = {
    CaseStatus.NEW: 9,
    CaseStatus.OPEN: 13,
    CaseStatus.PENDING: 11,
    CaseStatus.ON_HOLD: 6,
    CaseStatus.SOLVED: 21,
    CaseStatus.CLOSED: 40,
}
# How old (in hours) a case in each final status plausibly is.
STATUS_AGE_HOURS = {
    CaseStatus.NEW: (0.3, 20),
    CaseStatus.OPEN: (2, 120),
    CaseStatus.PENDING: (4, 240),
    CaseStatus.ON_HOLD: (24, 480),
    CaseStatus.SOLVED: (24, 960),
    CaseStatus.CLOSED: (200, HISTORY_DAYS * 24 - 2),
}
PLANS = ("Comfort", "Comfort Plus", "Home Pro", "Business")
DEVICES = ("Lumen Thermostat", "Lumen Smart Plug", "Lumen Hub", "Lumen Radiator Valve", "Lumen Sensor Kit")
ARTICLES = (
    "Pairing a thermostat with the hub",
    "Reading your energy report",
    "Setting up two-factor sign-in",
    "Changing your payment method",
    "Heating schedules for holidays",
    "Exporting readings as CSV",
)
SEARCHES = ("refund", "offline", "vat invoice", "cancel subscription", "api limit", "2fa new phone")


# --- public API -----------------------------------------------------------------------------------------
def is_seeded(platform: bootstrap.Platform) -> bool:
    """True once `seed_demo` has finished on this table.

    The marker is a counter item written after everything else, so a seed that crashed half-way is not
    mistaken for a finished one.
    """
    return platform.table.get(keys.counter(SEED_MARKER), now=int(time.time())) is not None


def seed_demo(platform: bootstrap.Platform, *, rng_seed: int = 7) -> SeedSummary:
    """Write the demo organisation and its history; on an already seeded table, only report the logins."""
    if is_seeded(platform):
        return SeedSummary(created=False, logins=_existing_logins(platform))
    started = time.perf_counter()
    seeder = _Seeder(platform, rng_seed)
    summary = seeder.run()
    platform.table.increment(keys.counter(SEED_MARKER), "value")
    summary.seconds = time.perf_counter() - started
    return summary


def _existing_logins(platform: bootstrap.Platform) -> list[Login]:
    store = platform.deps.store
    demo = {f"{spec.handle}@caseline.dev" for spec in STAFF}
    return [
        Login(a.name, a.email, a.role, a.id)
        for a in store.list_agents(limit=200, cursor=None).items
        if a.email in demo
    ]


# --- the seeder -----------------------------------------------------------------------------------------
def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _staff_request(agent: Agent, request_id: str) -> Request:
    principal = Principal(subject=f"local|{agent.email}", role=agent.role, agent_id=agent.id, name=agent.name)
    return Request(principal=principal, request_id=request_id)


def _customer_request(customer: Customer, request_id: str) -> Request:
    principal = Principal(
        subject=f"local|{customer.primary_email}",
        role=Role.CUSTOMER,
        customer_id=customer.id,
        name=customer.name,
    )
    return Request(principal=principal, request_id=request_id)


@dataclass
class _Person:
    """A seeded customer with what the stories need to know about them."""

    customer: Customer
    country: Country
    language: str
    first_name: str


class _Seeder:
    def __init__(self, platform: bootstrap.Platform, rng_seed: int) -> None:
        self.end = platform.deps.clock.now().replace(microsecond=0)
        self.start = self.end - timedelta(days=HISTORY_DAYS)
        self.clock = FixedClock(self.start)
        self.rng = random.Random(rng_seed)
        ids = SeededIds(random.Random(rng_seed + 1), self.clock)
        seeding = bootstrap.build(
            platform.settings,
            table=platform.table,
            clock=self.clock,
            ids=ids,
            metrics=platform.deps.metrics,
            idempotency=platform.idempotency(),
            blobs=platform.deps.blobs,
        )
        self.deps: Deps = seeding.deps
        self.stories = 0
        self.requests = 0
        self.teams: dict[str, Team] = {}
        self.staff: list[Agent] = []
        self.people: list[_Person] = []
        self.events = 0
        self.statuses: Counter[str] = Counter()
        self.channels: Counter[str] = Counter()

    def run(self) -> SeedSummary:
        self._write_staff()
        self._write_customers()
        self._write_external_events()
        self._write_cases()
        self._write_profile_changes()
        return SeedSummary(
            created=True,
            teams=len(self.teams),
            agents=len(self.staff),
            customers=len(self.people),
            cases=sum(self.statuses.values()),
            external_events=self.events,
            by_status=dict(self.statuses),
            by_channel=dict(self.channels),
            logins=self._logins(),
        )

    def _logins(self) -> list[Login]:
        logins = [Login(a.name, a.email, a.role, a.id) for a in self.staff]
        for person in self.people[:3]:
            c = person.customer
            logins.append(Login(c.name, c.primary_email or "", Role.CUSTOMER, c.id))
        return logins

    def _request_id(self) -> str:
        self.requests += 1
        return f"seed-{self.requests:05d}"

    def _at(self, when: datetime) -> None:
        self.clock.set(min(when, self.end))

    # staff -----------------------------------------------------------------------------------------------
    def _write_staff(self) -> None:
        ids = self.deps.ids
        team_ids = {spec.key: ids.new(self.start) for spec in TEAMS}
        for spec in STAFF:
            agent = Agent(
                id=ids.new(self.start),
                name=spec.name,
                email=f"{spec.handle}@caseline.dev",
                role=spec.role,
                handle=spec.handle,
                skills=list(spec.skills),
                languages=list(spec.languages),
                team_ids=[team_ids[spec.team]],
                capacity=12 if spec.role is Role.AGENT else 6,
                availability=spec.availability,
                time_zone=spec.time_zone,
            )
            self.staff.append(agent)
        managers = {s.team: a.id for s, a in zip(STAFF, self.staff, strict=True) if s.manages}
        uow = self.deps.store.begin()
        for spec in TEAMS:
            team = Team(
                id=team_ids[spec.key],
                name=spec.name,
                description=spec.description,
                manager_id=managers[spec.key],
                time_zone=spec.time_zone,
            )
            self.teams[spec.key] = team
            uow.put_team(team)
        for agent in self.staff:
            uow.put_agent(agent)
        uow.commit()

    def _team_staff(self, team_key: str) -> list[Agent]:
        team_id = self.teams[team_key].id
        return [a for a in self.staff if team_id in a.team_ids]

    def _supervisor(self, team_key: str) -> Agent:
        manager = self.teams[team_key].manager_id
        return next(a for a in self.staff if a.id == manager)

    # customers -------------------------------------------------------------------------------------------
    def _write_customers(self) -> None:
        admin = self.staff[0]
        used: set[tuple[str, str]] = set()
        for index in range(CUSTOMERS):
            country = (
                COUNTRIES[index % len(COUNTRIES)]
                if index < 2 * len(COUNTRIES)
                else self.rng.choice(COUNTRIES)
            )
            first, last = self._unique_name(country, used)
            self._at(self.start + timedelta(minutes=7 * index))
            command = self._customer_command(index, country, first, last)
            customer = customer_service.create_customer(
                self.deps, _staff_request(admin, self._request_id()), command
            )
            self.people.append(_Person(customer, country, country.locale[:2], first))

    def _phone(self, country: Country) -> str:
        return f"+{country.dial}{self.rng.randrange(10 ** (country.digits - 1), 10**country.digits)}"

    def _unique_name(self, country: Country, used: set[tuple[str, str]]) -> tuple[str, str]:
        while True:
            name = (self.rng.choice(country.first_names), self.rng.choice(country.last_names))
            if name not in used:
                used.add(name)
                return name

    def _customer_command(self, index: int, country: Country, first: str, last: str) -> CreateCustomer:
        rng = self.rng
        tier = rng.choices(list(CustomerTier), weights=(70, 22, 8))[0]
        low, high = LTV_RANGE[tier]
        value = Decimal(round(rng.uniform(low, high) * FX[country.currency], 2)).quantize(Decimal("0.01"))
        email = f"{_ascii(first)}.{_ascii(last)}@{MAIL_DOMAINS[index % len(MAIL_DOMAINS)]}"
        phones = [self._phone(country)] if rng.random() < 0.6 else []
        external = {"crm": f"003{rng.getrandbits(60):015X}"[:18]}
        if rng.random() < 0.8:
            external["billing"] = f"cus_{rng.getrandbits(56):014x}"
        return CreateCustomer(
            name=f"{first} {last}",
            emails=[email],
            phones=phones,
            locale=country.locale,
            time_zone=rng.choice(country.zones),
            tier=tier,
            lifetime_value=Money(amount=value, currency=country.currency),
            external_ids=external,
        )

    # external timeline events ------------------------------------------------------------------------------
    def _write_external_events(self) -> None:
        makers = (
            self._order_event,
            self._payment_event,
            self._crash_event,
            self._crm_event,
            self._portal_event,
        )
        for person in self.people:
            for _ in range(self.rng.randint(4, 10)):
                when = self.start + timedelta(hours=self.rng.uniform(2, HISTORY_DAYS * 24 - 1))
                maker = self.rng.choices(makers, weights=(3, 3, 1, 1, 3))[0]
                self._record(person, maker(person, when))

    def _record(self, person: _Person, command: RecordTimelineEvent) -> None:
        self._at(command.occurred_at + timedelta(seconds=self.rng.randint(2, 90)))
        customer_service.record_external_event(
            self.deps, Request(principal=SYSTEM, request_id=self._request_id()), command
        )
        self.events += 1

    def _event(
        self,
        person: _Person,
        kind: TimelineKind,
        source: str,
        external_id: str,
        when: datetime,
        summary: str,
        payload: dict,
        channel: Channel | None = None,
    ) -> RecordTimelineEvent:
        return RecordTimelineEvent(
            customer=CustomerRef(customer_id=person.customer.id),
            kind=kind,
            source=source,
            external_id=external_id,
            occurred_at=when,
            summary=summary,
            channel=channel,
            payload=payload,
        )

    def _money(self, person: _Person, low: float, high: float) -> str:
        return f"{self.rng.uniform(low, high) * FX[person.country.currency]:.2f} {person.country.currency}"

    def _order_event(self, person: _Person, when: datetime) -> RecordTimelineEvent:
        order = f"LM-{self.rng.randrange(100_000, 999_999)}"
        device, qty = self.rng.choice(DEVICES), self.rng.choice((1, 1, 1, 2, 3))
        total = self._money(person, 49 * qty, 229 * qty)
        status = self.rng.choices(("placed", "shipped", "delivered", "returned"), weights=(2, 3, 5, 1))[0]
        return self._event(
            person,
            TimelineKind.ORDER,
            "shop",
            order,
            when,
            f"Order {order} {status}: {qty} x {device} ({total})",
            {
                "order_id": order,
                "status": status,
                "items": [{"sku": _ascii(device), "name": device, "quantity": qty}],
                "total": total,
            },
        )

    def _payment_event(
        self, person: _Person, when: datetime, *, failed: bool | None = None
    ) -> RecordTimelineEvent:
        failed = self.rng.random() < 0.2 if failed is None else failed
        amount = self._money(person, 9, 49)
        payment = f"pay_{self.rng.getrandbits(64):016x}"
        invoice = f"INV-{when:%Y}-{self.rng.randrange(10_000, 99_999)}"
        if failed:
            reason = self.rng.choice(("card_declined", "insufficient_funds", "expired_card"))
            summary = f"Payment of {amount} for {invoice} failed ({reason.replace('_', ' ')})"
        else:
            reason, summary = None, f"Payment of {amount} received for {invoice}"
        return self._event(
            person,
            TimelineKind.PAYMENT,
            "billing",
            payment,
            when,
            summary,
            {
                "status": "failed" if failed else "succeeded",
                "amount": amount,
                "invoice": invoice,
                "failure_reason": reason,
            },
        )

    def _crash_event(self, person: _Person, when: datetime) -> RecordTimelineEvent:
        crash = f"crash-{self.rng.getrandbits(48):012x}"
        os_name = self.rng.choice(("iOS 18.2", "iOS 17.6", "Android 15", "Android 14"))
        error = self.rng.choice(
            (
                "NullPointerException in ReportChartView",
                "EXC_BAD_ACCESS in EnergyGraph",
                "OutOfMemoryError while decoding readings",
            )
        )
        version = f"4.{self.rng.randint(10, 14)}.{self.rng.randint(0, 3)}"
        return self._event(
            person,
            TimelineKind.CRASH_REPORT,
            "crash-reporter",
            crash,
            when,
            f"Lumen app {version} crashed on {os_name}: {error}",
            {"app_version": version, "os": os_name, "error": error, "occurrences": self.rng.randint(1, 9)},
        )

    def _crm_event(self, person: _Person, when: datetime) -> RecordTimelineEvent:
        change = self.rng.choice(
            (
                ("owner", "Account owner changed to Grace Mensah"),
                ("stage", "Lifecycle stage: trial → customer"),
                ("stage", "Lifecycle stage: customer → renewal due"),
                ("segment", "Segment set to 'home energy saver'"),
                ("nps", f"NPS survey answered: {self.rng.randint(3, 10)}/10"),
            )
        )
        return self._event(
            person,
            TimelineKind.CRM_CHANGE,
            "crm",
            f"crm-{self.rng.getrandbits(48):012x}",
            when,
            change[1],
            {"field": change[0], "crm_id": person.customer.external_ids["crm"]},
        )

    def _portal_event(self, person: _Person, when: datetime) -> RecordTimelineEvent:
        visit = f"visit-{self.rng.getrandbits(48):012x}"
        if self.rng.random() < 0.6:
            article = self.rng.choice(ARTICLES)
            summary, payload = (
                f"Read help article '{article}'",
                {"action": "read_article", "article": article},
            )
        else:
            query = self.rng.choice(SEARCHES)
            summary, payload = (
                f"Searched the help center for '{query}'",
                {"action": "search", "query": query, "results": self.rng.randint(0, 12)},
            )
        return self._event(
            person, TimelineKind.PORTAL_VISIT, "portal", visit, when, summary, payload, Channel.WEB
        )

    # cases -----------------------------------------------------------------------------------------------
    def _write_cases(self) -> None:
        plans = [self._plan_case(index) for index in range(CASES)]
        for plan in sorted(plans, key=lambda p: p.opened_at):
            _CaseStory(self, plan).tell()
            self.statuses[plan.status.value] += 1
            self.channels[plan.channel.value] += 1

    def _plan_case(self, index: int) -> _CasePlan:
        rng = self.rng
        statuses, channels = list(CaseStatus), list(Channel)
        # The first cases cover every status and channel, so the demo always shows each of them.
        status = (
            statuses[index]
            if index < len(statuses)
            else rng.choices(statuses, list(STATUS_WEIGHTS.values()))[0]
        )
        channel = (
            channels[index]
            if index < len(channels)
            else rng.choices(channels, list(CHANNEL_WEIGHTS.values()))[0]
        )
        low, high = STATUS_AGE_HOURS[status]
        opened_at = self.end - timedelta(hours=rng.uniform(low, high))
        scenario = rng.choices(SCENARIOS, weights=SCENARIO_WEIGHTS)[0]
        person = (
            self.people[min(int(rng.paretovariate(1.3)) - 1, len(self.people) - 1)]
            if rng.random() < 0.3
            else rng.choice(self.people)
        )
        return _CasePlan(status, channel, scenario, person, opened_at, self._facts(person))

    def _facts(self, person: _Person) -> dict[str, str]:
        rng = self.rng
        minor = rng.randint(10, 13)
        return {
            "name": person.first_name,
            "plan": rng.choice(PLANS),
            "device": rng.choice(DEVICES),
            "order": f"LM-{rng.randrange(100_000, 999_999)}",
            "invoice": f"INV-2026-{rng.randrange(10_000, 99_999)}",
            "amount": f"{rng.uniform(9, 49) * FX[person.country.currency]:.2f} {person.country.currency}",
            "digits": f"{rng.randrange(1000, 9999)}",
            "version": f"4.{minor}.{rng.randint(0, 3)}",
            "version_next": f"4.{minor + 1}.0",
            "crash": f"CR-{rng.randrange(1000, 9999)}",
        }

    # profile changes -------------------------------------------------------------------------------------
    def _write_profile_changes(self) -> None:
        """A few customers update their own profile through the portal: profile-change timeline entries."""
        for person in self.rng.sample(self.people, 6):
            customer = self.deps.store.get_customer(person.customer.id)
            assert customer is not None
            self._at(self.end - timedelta(hours=self.rng.uniform(1, 24 * 20)))
            phone = self._phone(person.country)
            customer_service.update_customer(
                self.deps,
                _customer_request(customer, self._request_id()),
                customer.id,
                UpdateCustomer(phones=[*customer.phones, phone]),
                expected_version=customer.version,
            )


@dataclass
class _CasePlan:
    status: CaseStatus
    channel: Channel
    scenario: Scenario
    person: _Person
    opened_at: datetime
    facts: dict[str, str]


Step = tuple[float, Callable[[], None]]  # (minutes after the previous step, what happens)


class _CaseStory:
    """One case from first message to its planned status, told through the services at story time."""

    def __init__(self, seeder: _Seeder, plan: _CasePlan) -> None:
        self.s = seeder
        self.plan = plan
        self.rng = seeder.rng
        self.deps = seeder.deps
        scenario = plan.scenario
        team_staff = seeder._team_staff(scenario.team)
        speakers = [a for a in team_staff if self._language() in a.languages] or team_staff
        self.agent = self.rng.choice([a for a in speakers if a.role is Role.AGENT] or speakers)
        self.supervisor = seeder._supervisor(scenario.team)
        self.case: Case | None = None
        seeder.stories += 1
        self.files = seeder.stories % FILES_EVERY == 1
        self.story_number = seeder.stories

    # text ------------------------------------------------------------------------------------------------
    def _language(self) -> str:
        wanted = self.plan.person.language
        return wanted if wanted in self.plan.scenario.opening else "en"

    def _say(self, options: tuple[str, ...], **extra: str) -> str:
        return self.rng.choice(options).format(**self.plan.facts, agent=self.agent.name.split()[0], **extra)

    def _mention(self) -> str:
        others = [a for a in self.s.staff if a.id != self.agent.id]
        if self.supervisor.id != self.agent.id and self.rng.random() < 0.6:
            return self.supervisor.handle
        return self.rng.choice(others).handle

    # the story -------------------------------------------------------------------------------------------
    def tell(self) -> None:
        start = self.plan.opened_at
        if self.plan.scenario.precursor is not None and self.rng.random() < 0.7:
            self._precursor(start - timedelta(minutes=self.rng.uniform(5, 180)))
        self.s._at(start)
        self._open()
        steps = self._steps()
        window = (self.s.end - start).total_seconds() / 60 * 0.95
        total = sum(gap for gap, _ in steps)
        scale = min(1.0, window / total) if total else 1.0
        when = start
        for gap, action in steps:
            when += timedelta(minutes=gap * scale)
            self.s._at(when)
            action()

    def _precursor(self, when: datetime) -> None:
        person, kind = self.plan.person, self.plan.scenario.precursor
        if kind is TimelineKind.PAYMENT:
            command = self.s._payment_event(person, when, failed=True)
        elif kind is TimelineKind.ORDER:
            command = self.s._order_event(person, when)
        else:
            command = self.s._crash_event(person, when)
        self.s._record(person, command)

    def _open(self) -> None:
        plan, scenario = self.plan, self.plan.scenario
        language = self._language()
        command = {
            "channel": plan.channel,
            "subject": self._say(scenario.subjects),
            "text": self._say(scenario.opening[language]),
            "language": language,
        }
        customer = plan.person.customer
        by_customer = plan.channel in (Channel.WEB, Channel.API) and self.rng.random() < 0.6
        if by_customer:
            request = _customer_request(customer, self.s._request_id())
            self.case = case_service.open_case(
                self.deps, request, OpenCase(**command, priority=scenario.priority)
            )
            return
        staff = self.agent if plan.channel in (Channel.PHONE, Channel.CHAT, Channel.API) else None
        request = (
            _staff_request(staff, self.s._request_id()) if staff else Request(SYSTEM, self.s._request_id())
        )
        priority = self._priority()
        self.case = case_service.open_case(
            self.deps,
            request,
            OpenCase(
                **command,
                requester=self._requester_ref(customer),
                priority=priority,
                category=scenario.category,
                tags=self._tags(),
                team_id=self.s.teams[scenario.team].id,
            ),
        )

    def _requester_ref(self, customer: Customer) -> CustomerRef:
        """Email and social intake find the customer by address, phone calls by number when there is one."""
        if self.plan.channel is Channel.PHONE and customer.phones:
            return CustomerRef(phone=customer.phones[0])
        if self.plan.channel in (Channel.EMAIL, Channel.SOCIAL):
            return CustomerRef(email=customer.primary_email)
        return CustomerRef(customer_id=customer.id)

    def _priority(self) -> Priority:
        base = self.plan.scenario.priority
        if self.plan.person.customer.tier is CustomerTier.VIP and base.rank > 1:
            return Priority.HIGH
        return base if self.rng.random() < 0.8 else self.rng.choice(list(Priority))

    def _tags(self) -> list[str]:
        tags = list(self.plan.scenario.tags)
        tier = self.plan.person.customer.tier
        if tier is not CustomerTier.STANDARD:
            tags.append(tier.value)
        tags.append(f"lang:{self._language()}")
        return tags

    def _steps(self) -> list[Step]:
        status, rng = self.plan.status, self.rng
        quick = self.plan.channel in (Channel.CHAT, Channel.PHONE)
        steps: list[Step] = []
        if status is not CaseStatus.NEW or rng.random() < 0.5:
            steps.append((rng.uniform(0.5, 3) if quick else rng.uniform(3, 90), self._assign))
        if status is CaseStatus.NEW:
            if rng.random() < 0.4:
                steps.append((rng.uniform(60, 600), lambda: self._customer_says(FOLLOW_UP_NEW)))
            return steps
        steps.append((rng.uniform(1, 5) if quick else rng.uniform(10, 480), self._first_reply))
        if rng.random() < 0.45:
            steps.append((rng.uniform(5, 120), self._note))
        return steps + self._steps_towards(status)

    def _steps_towards(self, status: CaseStatus) -> list[Step]:
        rng = self.rng
        if status is CaseStatus.OPEN:
            return (
                [(rng.uniform(30, 900), lambda: self._customer_says(self.plan.scenario.follow_ups))]
                if rng.random() < 0.6
                else []
            )
        if status is CaseStatus.ON_HOLD:
            return [(rng.uniform(20, 600), self._hold)]
        steps: list[Step] = [(rng.uniform(2, 30), lambda: self._set_status(CaseStatus.PENDING))]
        if status is CaseStatus.PENDING:
            return steps
        steps += [
            (rng.uniform(60, 1800), lambda: self._customer_says(self.plan.scenario.follow_ups)),
            (rng.uniform(30, 600), self._solve),
        ]
        if rng.random() < 0.15:
            steps += [
                (rng.uniform(600, 4000), lambda: self._customer_says(REOPEN)),
                (rng.uniform(60, 900), self._solve_again),
            ]
        if rng.random() < 0.3 and status is CaseStatus.SOLVED:
            steps.append((rng.uniform(10, 300), self._retag))
        if status is CaseStatus.CLOSED:
            steps.append(
                (
                    rng.uniform(2 * 1440, 6 * 1440),
                    lambda: self._set_status(CaseStatus.CLOSED, self.supervisor),
                )
            )
        return steps

    # actions ---------------------------------------------------------------------------------------------
    def _case(self) -> Case:
        assert self.case is not None
        current = self.deps.store.get_case(self.case.id)
        assert current is not None
        return current

    def _assign(self) -> None:
        """Supervisors route most cases; agents pick some up themselves from the team queue."""
        who = self.supervisor if self.rng.random() < 0.6 else self.agent
        case = self._case()
        case_service.assign_case(
            self.deps,
            _staff_request(who, self.s._request_id()),
            case.id,
            AssignCase(assignee_id=self.agent.id, team_id=self.s.teams[self.plan.scenario.team].id),
            expected_version=case.version,
        )

    def _first_reply(self) -> None:
        language = self._language()
        if language in OPENING_LOCALIZED_REPLY:
            text = OPENING_LOCALIZED_REPLY[language].format(name=self.plan.facts["name"])
            self._reply(text, language=language)
        else:
            self._reply(self._say(self.plan.scenario.replies))

    def _reply(self, text: str, status: CaseStatus | None = None, language: str = "en") -> None:
        sign_off = SIGN_OFF[language].format(agent=self.agent.name.split()[0])
        case_service.add_reply(
            self.deps,
            _staff_request(self.agent, self.s._request_id()),
            self._case().id,
            AddReply(text=f"{text}\n\n{sign_off}", status=status),
        )

    def _customer_says(self, options: tuple[str, ...]) -> None:
        customer = self.plan.person.customer
        files = []
        if self.files:
            self.files = False
            files.append(self._file(screenshot_png(self.story_number), f"screenshot-{self.story_number}.png",
                                    "image/png"))
        case_service.add_reply(
            self.deps,
            _customer_request(customer, self.s._request_id()),
            self._case().id,
            AddReply(text=self._say(options), attachments=files),
        )

    def _note(self) -> None:
        text = self._say(self.plan.scenario.notes, mention=self._mention())
        files = []
        if self.story_number % FILES_EVERY == 1:
            log = device_log(f"hub-{self.story_number:03d}", self.deps.clock.now() - timedelta(hours=2),
                             seed=self.story_number)
            files.append(self._file(log, "hub-sync.log", "text/plain"))
        case_service.add_note(
            self.deps, _staff_request(self.agent, self.s._request_id()), self._case().id,
            AddNote(text=text, attachments=files),
        )

    def _file(self, data: bytes, filename: str, content_type: str) -> AttachmentRef:
        """Put the file in the blob store under the case, as an upload through a signed URL would."""
        sha256 = hashlib.sha256(data).hexdigest()
        ref = AttachmentRef(key=attachment_key(self._case().id, sha256, filename), filename=filename,
                            content_type=content_type, size=len(data), sha256=sha256)
        assert self.deps.blobs is not None
        self.deps.blobs.put(ref.key, data, content_type=content_type, metadata={"sha256": sha256})
        return ref

    def _hold(self) -> None:
        case_service.add_note(
            self.deps,
            _staff_request(self.agent, self.s._request_id()),
            self._case().id,
            AddNote(text=self._say(ON_HOLD_NOTES, mention=self._mention())),
        )
        self._set_status(CaseStatus.ON_HOLD, tags=["waiting-on-third-party"])

    def _solve(self) -> None:
        self._reply(self._say(self.plan.scenario.solutions), status=CaseStatus.SOLVED)

    def _solve_again(self) -> None:
        self._reply(self._say(SOLVED_AGAIN), status=CaseStatus.SOLVED)

    def _retag(self) -> None:
        case = self._case()
        update = UpdateCase(tags=[*case.tags, "kb-candidate"], priority=Priority.LOW)
        case_service.update_case(
            self.deps,
            _staff_request(self.supervisor, self.s._request_id()),
            case.id,
            update,
            expected_version=case.version,
        )

    def _set_status(
        self, status: CaseStatus, who: Agent | None = None, tags: list[str] | None = None
    ) -> None:
        case = self._case()
        update = UpdateCase(status=status, tags=[*case.tags, *tags]) if tags else UpdateCase(status=status)
        case_service.update_case(
            self.deps,
            _staff_request(who or self.agent, self.s._request_id()),
            case.id,
            update,
            expected_version=case.version,
        )


__all__ = ["Login", "SeedSummary", "SeededIds", "is_seeded", "seed_demo"]
