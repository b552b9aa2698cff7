"""System prompts, and numbers, dates and digits said with them (S4; U7 voicemail, S8 queues).

The switch speaks numbers by playing short prompts one after the other, so
the prompt set is made once, at install time or first start, by text to
speech (`build_system_prompts`), as `folder/<lang>/<name>.wav`. The `say_*`
functions are pure: they return the prompt names to play, in order, and
`paths` turns names into files for `player.load_prompt`.

Grammar kept simple but right: Swedish numbers are said as their parts
("två" "hundra" "tjugoett" for 221, "ett" "tusen" for 1000) and English
ones the British way ("two hundred and twenty-one"); a date is "måndag den
tredje mars klockan fjorton och tjugofem" / "Monday the third of March at
fourteen twenty-five", in the time zone of the `datetime` given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from vaxel.media.player import PromptError
from vaxel.media.prompts import OUTPUT_ARGS, SOX_TIMEOUT, replacing, run_tool
from vaxel.media.tts import LANGUAGES, Language, check_language, synthesize

__all__ = [
    "SYSTEM_PROMPTS",
    "TONES",
    "build_system_prompts",
    "paths",
    "say_datetime",
    "say_digits",
    "say_new_messages",
    "say_number",
    "say_ordinal",
    "say_queue_position",
    "say_until",
]

# fmt: off
_SV_SMALL = (
    "noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva", "tolv",
    "tretton", "fjorton", "femton", "sexton", "sjutton", "arton", "nitton",
)
_EN_SMALL = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_SV_TENS = ("tjugo", "trettio", "fyrtio", "femtio", "sextio", "sjuttio", "åttio", "nittio")
_EN_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SV_ORDINALS = (
    "första", "andra", "tredje", "fjärde", "femte", "sjätte", "sjunde", "åttonde", "nionde",
    "tionde", "elfte", "tolfte", "trettonde", "fjortonde", "femtonde", "sextonde", "sjuttonde",
    "artonde", "nittonde", "tjugonde",
    "trettionde", "fyrtionde", "femtionde", "sextionde", "sjuttionde", "åttionde", "nittionde",
)
_EN_ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
    "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth",
)
ORDINAL_NUMBERS = (*range(1, 21), *range(30, 100, 10))  # the ordinals that have a prompt
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SV_WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_SV_MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
    "oktober", "november", "december",
)
# fmt: on


def _cardinal(n: int, small: Sequence[str], tens: Sequence[str], joiner: str) -> str:
    """The word for 0..99 ("tjugoett", "twenty-one")."""
    if n < 20:
        return small[n]
    tens_word, unit = tens[n // 10 - 2], n % 10
    return tens_word + (joiner + small[unit] if unit else "")


def _number_prompts() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for n in (*range(60), 60, 70, 80, 90):
        out[f"num-{n}"] = {
            "sv": _cardinal(n, _SV_SMALL, _SV_TENS, ""),
            "en": _cardinal(n, _EN_SMALL, _EN_TENS, "-"),
        }
    for n, sv, en in zip(ORDINAL_NUMBERS, _SV_ORDINALS, _EN_ORDINALS, strict=True):
        out[f"ord-{n}"] = {"sv": sv, "en": en}
    for name, sv in (
        *zip(WEEKDAYS, _SV_WEEKDAYS, strict=True),
        *zip(MONTHS, _SV_MONTHS, strict=True),
    ):
        out[name] = {"sv": sv, "en": name.capitalize()}
    return out


#: Every spoken system prompt: name -> language -> text (some names exist in one language).
SYSTEM_PROMPTS: dict[str, dict[str, str]] = {
    **_number_prompts(),
    "hundred": {"sv": "hundra", "en": "hundred"},
    "thousand": {"sv": "tusen", "en": "thousand"},
    "and": {"sv": "och", "en": "and"},
    "oh": {"en": "oh"},  # "fourteen oh five"
    "the": {"sv": "den", "en": "the"},
    "of": {"en": "of"},
    "at": {"sv": "klockan", "en": "at"},
    "plus": {"sv": "plus", "en": "plus"},
    "star": {"sv": "stjärna", "en": "star"},
    "hash": {"sv": "fyrkant", "en": "hash"},
    # Queues
    "you-are-number": {"sv": "Du är nummer", "en": "You are number"},
    "in-the-queue": {"sv": "i kön.", "en": "in the queue."},
    "estimated-wait": {"sv": "Beräknad väntetid är", "en": "The estimated waiting time is"},
    "minutes": {"sv": "minuter.", "en": "minutes."},
    "wait-one-minute": {
        "sv": "Beräknad väntetid är en minut.",
        "en": "The estimated waiting time is one minute.",
    },
    "wait-under-a-minute": {
        "sv": "Beräknad väntetid är mindre än en minut.",
        "en": "The estimated waiting time is less than a minute.",
    },
    # A1, A5: a callback that keeps the caller's place
    "callback-offer": {
        "sv": "Vill du bli uppringd i stället och behålla din plats i kön, tryck",
        "en": "To be called back instead and keep your place in the queue, press",
    },
    "callback-number-is": {"sv": "Vi ringer upp dig på", "en": "We will call you back on"},
    "callback-confirm": {
        "sv": "Tryck ett för att bekräfta, eller slå ett annat nummer och avsluta med "
        "fyrkant. Tryck stjärna för att stanna kvar i kön.",
        "en": "Press one to confirm, or key in another number followed by the hash key. "
        "Press star to stay in the queue.",
    },
    "callback-enter-number": {
        "sv": "Slå numret vi ska ringa upp och avsluta med fyrkant. "
        "Tryck stjärna för att stanna kvar i kön.",
        "en": "Key in the number to call you back on, followed by the hash key. "
        "Press star to stay in the queue.",
    },
    "callback-invalid": {
        "sv": "Det numret kan vi inte ringa upp.",
        "en": "We cannot call that number.",
    },
    "callback-booked": {
        "sv": "Tack. Du har kvar din plats i kön och vi ringer upp dig när det är din tur. "
        "Du kan lägga på nu.",
        "en": "Thank you. You keep your place in the queue and we will call you back when "
        "it is your turn. You can hang up now.",
    },
    "callback-sent": {
        "sv": "Tack. Vi ringer upp dig så snart vi kan. Du kan lägga på nu.",
        "en": "Thank you. We will call you back as soon as we can. You can hang up now.",
    },
    "callback-greeting": {
        "sv": "Hej! Det här är uppringningen du bad om. Du kopplas nu till en medarbetare.",
        "en": "Hello! This is the callback you asked for. You are being connected now.",
    },
    "callback-for": {"sv": "Återuppringning till", "en": "Callback to"},
    "callback-when": {
        "sv": "Tryck ett för att behålla din plats i kön, eller två för att välja en tid.",
        "en": "Press one to keep your place in the queue, or two to choose a time.",
    },
    "callback-choose-time": {
        "sv": "Välj en tid för uppringningen.",
        "en": "Choose a time for your callback.",
    },
    "callback-no-times": {
        "sv": "Det finns inga lediga tider just nu.",
        "en": "There are no times free right now.",
    },
    "callback-scheduled": {"sv": "Tack. Vi ringer upp dig", "en": "Thank you. We will call you"},
    "press": {"sv": "tryck", "en": "press"},
    "callback-no-answer": {
        "sv": "Ingen svarade. Vi försöker igen senare.",
        "en": "There was no answer. We will try again later.",
    },
    "queue-all-busy": {
        "sv": "Alla våra medarbetare är upptagna just nu. Var god dröj.",
        "en": "All our staff are busy right now. Please hold.",
    },
    # Call recording (A6): said to the caller of a call recorded by rule
    "call-recorded": {
        "sv": "Samtalet spelas in.",
        "en": "This call is recorded.",
    },
    # Voicemail: "<name or number> vm-cannot-answer", or vm-greeting-generic alone
    "vm-cannot-answer": {
        "sv": "kan inte svara just nu. Lämna ett meddelande efter tonen.",
        "en": "cannot answer right now. Please leave a message after the tone.",
    },
    "vm-the-person-at": {"sv": "Personen på nummer", "en": "The person at number"},
    "vm-greeting-generic": {
        "sv": "Den du söker kan inte svara just nu. Lämna ett meddelande efter tonen.",
        "en": "The person you are calling cannot answer right now. "
        "Please leave a message after the tone.",
    },
    "vm-greeting-shared": {
        "sv": "Vi kan inte svara just nu. Lämna ett meddelande efter tonen så hör vi av oss.",
        "en": "We cannot answer right now. "
        "Please leave a message after the tone and we will get back to you.",
    },
    # A caller to a box at its quota hears this, then goodbye.
    "vm-box-full": {
        "sv": "Röstbrevlådan är full och kan inte ta emot fler meddelanden.",
        "en": "The mailbox is full and cannot take any more messages.",
    },
    "vm-enter-pin": {
        "sv": "Ange din kod och avsluta med fyrkant.",
        "en": "Enter your PIN code, followed by the hash key.",
    },
    "vm-wrong-pin": {"sv": "Fel kod. Försök igen.", "en": "Wrong code. Please try again."},
    "vm-you-have": {"sv": "Du har", "en": "You have"},
    "vm-new-message": {"sv": "nytt meddelande.", "en": "new message."},
    "vm-new-messages": {"sv": "nya meddelanden.", "en": "new messages."},
    "vm-no-new-messages": {"sv": "Du har inga nya meddelanden.", "en": "You have no new messages."},
    "vm-message": {"sv": "Meddelande", "en": "Message"},
    "vm-received": {"sv": "mottaget", "en": "received"},
    "vm-from": {"sv": "från", "en": "from"},
    "vm-main-menu": {
        "sv": "Tryck ett för att lyssna på dina meddelanden, två för att spela in ditt "
        "hälsningsmeddelande, tre för att slå på eller stänga av din röstbrevlåda.",
        "en": "Press one to listen to your messages, two to record your greeting, "
        "three to turn your voicemail on or off.",
    },
    "vm-message-menu": {
        "sv": "Tryck ett för att lyssna igen, två för att spara, tre för att radera, "
        "fyra för nästa meddelande, fem för när och från vem, sex för föregående meddelande.",
        "en": "Press one to listen again, two to save, three to delete, four for the next "
        "message, five for when and from whom, six for the previous message.",
    },
    "vm-box-on": {
        "sv": "Din röstbrevlåda är påslagen.",
        "en": "Your voicemail is on.",
    },
    "vm-box-off": {
        "sv": "Din röstbrevlåda är avstängd. Den som ringer dig kan inte lämna meddelanden.",
        "en": "Your voicemail is off. Callers cannot leave you messages.",
    },
    "vm-saved": {"sv": "Meddelandet är sparat.", "en": "Message saved."},
    "vm-deleted": {"sv": "Meddelandet är raderat.", "en": "Message deleted."},
    "vm-no-more-messages": {"sv": "Inga fler meddelanden.", "en": "No more messages."},
    "vm-record-greeting": {
        "sv": "Spela in ditt hälsningsmeddelande efter tonen och tryck fyrkant när du är klar.",
        "en": "Record your greeting after the tone, and press the hash key when you are done.",
    },
    "vm-record-name": {
        "sv": "Säg ditt namn efter tonen och tryck fyrkant.",
        "en": "Say your name after the tone, then press the hash key.",
    },
    "vm-greeting-saved": {
        "sv": "Ditt hälsningsmeddelande är sparat.",
        "en": "Your greeting has been saved.",
    },
    # General
    # conference rooms (A3)
    "conf-enter-pin": {
        "sv": "Ange konferensens kod och avsluta med fyrkant.",
        "en": "Please enter the conference code, then press hash.",
    },
    "conf-joining": {"sv": "Du ansluts till konferensen.", "en": "You are joining the conference."},
    "conf-full": {"sv": "Konferensen är full.", "en": "The conference is full."},
    "conf-locked": {"sv": "Konferensen är låst.", "en": "The conference is locked."},
    "conf-ended": {"sv": "Konferensen är avslutad.", "en": "The conference has ended."},
    "conf-you-muted": {"sv": "Din mikrofon är avstängd.", "en": "You are muted."},
    "conf-you-unmuted": {"sv": "Du hörs igen.", "en": "You can be heard again."},
    "conf-others-muted": {"sv": "Alla andra är tystade.", "en": "Everyone else is muted."},
    "conf-others-unmuted": {"sv": "Alla hörs igen.", "en": "Everyone can be heard again."},
    "conf-now-locked": {"sv": "Konferensen är nu låst.", "en": "The conference is now locked."},
    "conf-now-open": {"sv": "Konferensen är öppen igen.", "en": "The conference is open again."},
    "invalid-choice": {"sv": "Ogiltigt val.", "en": "That is not a valid choice."},
    "please-hold": {"sv": "Var god dröj.", "en": "Please hold."},
    # Call park (P4): "park-parked-on 7 0 1".
    "park-parked-on": {"sv": "Samtalet är parkerat på", "en": "The call is parked on"},
    # A user's mobile rung as one of their phones (U2): press 1 to take the call.
    "mobile-confirm": {
        "sv": "Samtal till dig via växeln. Tryck 1 för att svara.",
        "en": "A call for you through the switchboard. Press 1 to answer.",
    },
    "thank-you": {"sv": "Tack.", "en": "Thank you."},
    "goodbye": {"sv": "Hej då.", "en": "Goodbye."},
    # Recording a company prompt by phone (S4).
    "prompt-enter-number": {
        "sv": "Ange numret på meddelandet du vill spela in, och avsluta med fyrkant.",
        "en": "Enter the number of the prompt to record, followed by the hash key.",
    },
    "prompt-record": {
        "sv": "Tala in meddelandet efter tonen. Tryck fyrkant när du är klar.",
        "en": "Record the prompt after the tone. Press the hash key when you are done.",
    },
    "prompt-menu": {
        "sv": "Tryck ett för att spara, två för att lyssna, tre för att spela in igen.",
        "en": "Press one to save, two to listen, three to record again.",
    },
    "prompt-saved": {"sv": "Meddelandet är sparat.", "en": "The prompt is saved."},
    # Diversions (U9): "<name> div-lunch div-until <when>", then what the caller may press.
    # The phrases are services.diversions.PRESETS (a test keeps the two the same).
    "div-lunch": {"sv": "är på lunch", "en": "is at lunch"},
    "div-meeting": {"sv": "sitter i möte", "en": "is in a meeting"},
    "div-away": {"sv": "är inte på plats", "en": "is away"},
    "div-sick": {"sv": "är sjuk", "en": "is off sick"},
    "div-vacation": {"sv": "är på semester", "en": "is on holiday"},
    "div-until": {"sv": "till", "en": "until"},
    "tomorrow": {"sv": "i morgon", "en": "tomorrow"},
    "div-press-1-voicemail": {
        "sv": "Tryck ett för att lämna ett meddelande.",
        "en": "Press one to leave a message.",
    },
    "div-press-0-operator": {
        "sv": "Tryck noll för att komma till växeln.",
        "en": "Press zero for the operator.",
    },
}

#: Prompts made by sox, not speech (the same in every language): name -> sox effects.
TONES: dict[str, tuple[str, ...]] = {
    "beep": ("synth", "0.4", "sine", "1000", "fade", "h", "0.01", "0.4", "0.01", "gain", "-6"),
    "silence-250ms": ("trim", "0", "0.25"),
    "silence-1s": ("trim", "0", "1"),
    # The Swedish ringing tone (425 Hz, 1 s on, 4 s off), for callers the switch answered.
    "ringback": ("synth", "1", "sine", "425", "pad", "0", "4", "gain", "-10"),
    # Default music on hold: a plucked chord, looped.
    "music": ("synth", "3", "pluck", "C3", "pluck", "E3", "pluck", "G3", "gain", "-14"),
}


def _below_100(n: int) -> list[str]:
    if n < 60 or n % 10 == 0:
        return [f"num-{n}"]
    return [f"num-{n - n % 10}", f"num-{n % 10}"]


def _below_1000(n: int, lang: Language) -> list[str]:
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _below_100(rest)
    names = [f"num-{hundreds}", "hundred"]
    if rest:
        names += (["and"] if lang == "en" else []) + _below_100(rest)
    return names


def say_number(n: int, lang: Language) -> list[str]:
    """The prompts that say `n` (0..999999): 221 is "två hundra tjugoett" / "two hundred
    and twenty-one", 1005 is "ett tusen fem" / "one thousand and five"."""
    lang = check_language(lang)
    if not 0 <= n <= 999_999:
        raise ValueError(f"say_number covers 0..999999, not {n}")
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _below_1000(rest, lang)
    names = [*_below_1000(thousands, lang), "thousand"]
    if rest:
        if lang == "en" and rest < 100:
            names.append("and")
        names += _below_1000(rest, lang)
    return names


def say_ordinal(n: int, lang: Language) -> list[str]:
    """The prompts that say the ordinal `n` (1..99): 23 is "tjugo" "tredje" / "twenty" "third"."""
    check_language(lang)
    if not 1 <= n <= 99:
        raise ValueError(f"say_ordinal covers 1..99, not {n}")
    if n in ORDINAL_NUMBERS:
        return [f"ord-{n}"]
    return [f"num-{n - n % 10}", f"ord-{n % 10}"]


def _say_time(hour: int, minute: int, lang: Language) -> list[str]:
    names = [f"num-{hour}"]
    if lang == "sv":
        return names + (["and", f"num-{minute}"] if minute else [])
    if minute == 0:
        return [*names, "hundred"]  # "fourteen hundred"
    return names + (["oh"] if minute < 10 else []) + [f"num-{minute}"]


def say_datetime(dt: datetime, lang: Language) -> list[str]:
    """A voicemail envelope's time: "måndag den tredje mars klockan fjorton och tjugofem" /
    "Monday the third of March at fourteen twenty-five" (give `dt` in the user's zone)."""
    lang = check_language(lang)
    day = [WEEKDAYS[dt.weekday()], "the", *say_ordinal(dt.day, lang)]
    month = MONTHS[dt.month - 1]
    date = [*day, month] if lang == "sv" else [*day, "of", month]
    return [*date, "at", *_say_time(dt.hour, dt.minute, lang)]


def say_until(until: datetime, now: datetime, lang: Language) -> list[str]:
    """When a diversion ends, from `now` (both in the company's zone): "till klockan
    tretton" / "until thirteen hundred" today, "till i morgon klockan åtta", "till måndag
    klockan åtta" within the week, "till måndag den tredje mars klockan åtta" later."""
    lang = check_language(lang)
    time = _say_time(until.hour, until.minute, lang)
    days = (until.date() - now.date()).days
    if days <= 0:
        return ["div-until", *(["at"] if lang == "sv" else []), *time]
    if days == 1:
        return ["div-until", "tomorrow", "at", *time]
    if days < 7:
        return ["div-until", WEEKDAYS[until.weekday()], "at", *time]
    return ["div-until", *say_datetime(until, lang)]


_DIGIT_NAMES = {**{str(d): f"num-{d}" for d in range(10)}, "+": "plus", "*": "star", "#": "hash"}
_SEPARATORS = frozenset(" -().")


def say_digits(digits: str, lang: Language) -> list[str]:
    """One prompt per digit ("+", "*" and "#" too); spaces, dashes, dots and brackets skipped."""
    check_language(lang)
    names = []
    for char in digits:
        if char in _DIGIT_NAMES:
            names.append(_DIGIT_NAMES[char])
        elif char not in _SEPARATORS:
            raise ValueError(f"cannot say {char!r} in {digits!r}")
    return names


def say_slot(slot: datetime, now: datetime, lang: Language) -> list[str]:
    """A callback's time (A18), both in the company's zone: "klockan fjorton och trettio",
    "i morgon klockan åtta"."""
    lang = check_language(lang)
    day = [] if slot.date() == now.date() else ["tomorrow"]
    if (slot.date() - now.date()).days > 1:
        day = [WEEKDAYS[slot.weekday()]]
    return [*day, "at", *_say_time(slot.hour, slot.minute, lang)]


def say_queue_position(position: int, lang: Language) -> list[str]:
    """ "Du är nummer tre i kön." / "You are number three in the queue."."""
    return ["you-are-number", *say_number(position, lang), "in-the-queue"]


def say_estimated_wait(minutes: int, lang: Language) -> list[str]:
    """ "Beräknad väntetid är fyra minuter." / "The estimated waiting time is four minutes."
    (A5); under a minute and one minute have sentences of their own ("en minut")."""
    if minutes < 1:
        check_language(lang)
        return ["wait-under-a-minute"]
    if minutes == 1:
        check_language(lang)
        return ["wait-one-minute"]
    return ["estimated-wait", *say_number(minutes, lang), "minutes"]


def say_new_messages(count: int, lang: Language) -> list[str]:
    """ "Du har två nya meddelanden." / "You have no new messages."."""
    if count == 0:
        check_language(lang)
        return ["vm-no-new-messages"]
    noun = "vm-new-message" if count == 1 else "vm-new-messages"
    return ["vm-you-have", *say_number(count, lang), noun]


def paths(names: Iterable[str], lang: Language, folder: Path) -> list[Path]:
    """The files of the named system prompts in `lang` (`folder/<lang>/<name>.wav`)."""
    lang = check_language(lang)
    return [Path(folder) / lang / f"{name}.wav" for name in names]


def _make_tone(name: str, target: Path) -> None:
    with replacing(target) as tmp:
        # -D: no dither, so silence is exact zeros and the beep the same every build.
        run_tool(
            ["sox", "-V1", "-D", "-n", *OUTPUT_ARGS, str(tmp), *TONES[name]],
            timeout=SOX_TIMEOUT,
            what=f"system prompt {name}",
        )


def build_system_prompts(
    folder: Path,
    languages: Sequence[Language] = LANGUAGES,
    *,
    names: Iterable[str] | None = None,
    force: bool = False,
    workers: int | None = None,
) -> list[Path]:
    """Make the system prompts (all, or only `names`) under `folder/<lang>/<name>.wav`.

    Prompts that exist are kept unless `force` or their text changed since
    they were spoken (each language folder keeps the texts it was made
    from, so an upgrade re-speaks only what it rewords). Text to speech
    runs in a few threads (each waits on espeak-ng and sox). Returns the
    files written.
    """
    folder = Path(folder)
    wanted = list(names) if names is not None else [*SYSTEM_PROMPTS, *TONES]
    for name in wanted:
        if name not in SYSTEM_PROMPTS and name not in TONES:
            raise PromptError(f"unknown system prompt {name!r}")
    jobs: list[tuple[str, Language, Path]] = []
    spoken: dict[Language, dict[str, str]] = {}
    for lang in languages:
        lang = check_language(lang)
        spoken[lang] = texts = _spoken_texts(folder / lang)
        for name in wanted:
            target = folder / lang / f"{name}.wav"
            text = SYSTEM_PROMPTS.get(name, {}).get(lang)
            if name not in TONES and text is None:
                continue
            reworded = text is not None and texts.get(name) != text
            if force or reworded or not target.exists():
                jobs.append((name, lang, target))

    def make(job: tuple[str, Language, Path]) -> Path:
        name, lang, target = job
        if name in TONES:
            _make_tone(name, target)
        else:
            synthesize(SYSTEM_PROMPTS[name][lang], lang, target)
        return target

    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        written = list(pool.map(make, jobs))
    for lang, texts in spoken.items():
        made = {name for name, job_lang, _ in jobs if job_lang == lang and name in SYSTEM_PROMPTS}
        if made:
            texts.update({name: SYSTEM_PROMPTS[name][lang] for name in made})
            with replacing(folder / lang / TEXTS_FILE) as tmp:
                tmp.write_text(json.dumps(texts, ensure_ascii=False, indent=0), encoding="utf-8")
    return written


TEXTS_FILE = "texts.json"  # what each prompt of a language folder says


def _spoken_texts(folder: Path) -> dict[str, str]:
    try:
        texts = json.loads((folder / TEXTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return texts if isinstance(texts, dict) else {}
