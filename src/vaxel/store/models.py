"""Declarative models (P7): companies (tenants), users, bindings, call records, call flows.

Tenant data always carries `company_id`, so every query can filter by company
and a binding can never point at another company's user (composite foreign key).
Secrets are stored only as digest HA1 values, never as plaintext SIP passwords.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names let migrations refer to (and SQLite batch mode rebuild) them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Company(Base):
    """A tenant; its `domain` is the SIP domain and the digest realm of its users."""

    __tablename__ = "companies"
    __table_args__ = (CheckConstraint("domain = lower(domain)", name="domain_lower"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class User(Base):
    """An extension of one company; authenticates with digest HA1s only."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("company_id", "extension"),
        # Target of the bindings' composite foreign key (tenant integrity).
        UniqueConstraint("company_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    extension: Mapped[str] = mapped_column(String(8))
    display_name: Mapped[str] = mapped_column(String(200))
    ha1_md5: Mapped[str] = mapped_column(String(32))
    ha1_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How long a call to this user rings before it counts as not answered.
    ring_seconds: Mapped[int] = mapped_column(Integer, default=30, server_default=text("30"))
    # The browser softphone's own SIP credential (U1): HA1s of a random password for the
    # digest username "<extension>-web", made when /phone first asks; NULL when none.
    web_ha1_md5: Mapped[str | None] = mapped_column(String(32))
    web_ha1_sha256: Mapped[str | None] = mapped_column(String(64))


class Registration(Base):
    """One registrar binding (RFC 3261 §10.3) of a user's address-of-record.

    Times are UTC epoch seconds: the registrar compares them with its own clock
    on every REGISTER, and floats need no conversion on that path. Text the peer
    sends is unbounded TEXT, so a long header can never make the write fail.
    """

    __tablename__ = "registrations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "user_id"], ["users.company_id", "users.id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    contact: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[str | None] = mapped_column(Text)
    reg_id: Mapped[int | None] = mapped_column(Integer)
    call_id: Mapped[str] = mapped_column(Text)
    cseq: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    q: Mapped[float | None] = mapped_column(Float)
    received: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(Text, default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[float] = mapped_column(Float)


class DirectoryVersion(Base):
    """One row whose counter triggers bump on every change to companies or users,
    so the switch knows when its in-memory credential cache is stale."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


# The caches' check, for `Store.scalar_reader` (raw SQL: it skips SQLAlchemy on the hot path).
READ_DIRECTORY_VERSION = "SELECT version FROM directory_version"


# What a finished call can come to, and who ended it (CHECK constraints of call_records).
DISPOSITIONS = ("answered", "busy", "no-answer", "canceled", "failed")
HANGUP_SIDES = ("caller", "callee", "switch")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class CallRecord(Base):
    """One finished call (a CDR), written by the switch when the call ends.

    `call_id` is the SIP Call-ID of the caller's leg; `caller` and `callee`
    are as dialled (an extension or a SIP URI). `duration_seconds` runs from
    answer to end, 0 for a call nobody answered. `cause_code` is the SIP
    status that ended it (200 for a normal end of an answered call).
    """

    __tablename__ = "call_records"
    __table_args__ = (
        CheckConstraint(_one_of("disposition", DISPOSITIONS), name="disposition"),
        CheckConstraint(_one_of("hangup_side", HANGUP_SIDES), name="hangup_side"),
        # A company's newest calls first: read backwards along this index.
        Index("ix_call_records_company_id_started_at", "company_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(Text)
    caller: Mapped[str] = mapped_column(Text)
    caller_name: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    callee: Mapped[str] = mapped_column(Text)
    answered_by: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(Float)
    disposition: Mapped[str] = mapped_column(Text)
    hangup_side: Mapped[str] = mapped_column(Text)
    cause_code: Mapped[int] = mapped_column(Integer)
    cause_text: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))


QUEUE_OUTCOMES = ("answered", "abandoned", "timeout", "overflow", "ended", "callback-failed")


class QueueVisit(Base):
    """One call's visit to an answering group or its queue (S9, A10), written when the visit
    ends: who waited how long, and how they left. `outcome`: a member (`answered_by`)
    answered; the caller hung up while waiting (abandoned); the queue's longest wait passed
    (timeout); the group sent the call on to its overflow with nobody to ring or nobody
    answering (overflow); the switch ended the call (ended). `call_id` is the one of the
    call's record, which gives the handling time."""

    __tablename__ = "queue_visits"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", QUEUE_OUTCOMES), name="outcome"),
        Index("ix_queue_visits_company_id_entered_at", "company_id", "entered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    group: Mapped[str] = mapped_column(Text)
    call_id: Mapped[str] = mapped_column(Text)
    caller: Mapped[str] = mapped_column(Text)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    left_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(Text)
    wait_seconds: Mapped[float] = mapped_column(Float)


class CompanyDocument(Base):
    """A company's call flows, menus, schedules, groups, boxes and trunks, as one validated
    JSON document (P7): read whole by the switch, replaced whole by `config apply`. Its
    voicemail PINs are hashes; its trunk and mail passwords are there for the switch to
    use, and never exported (services/configuration.py)."""

    __tablename__ = "company_documents"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Number(Base):
    """An inbound E.164 number. The primary key keeps a number with one company only."""

    __tablename__ = "numbers"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )


class VoicemailMessage(Base):
    """A message left in a box: a user's own (`box` is the extension) or a shared one.

    `heard` is one flag per message, so every device and every listener of a
    shared box sees the same new and old counts.
    """

    __tablename__ = "voicemail_messages"
    __table_args__ = (Index("ix_voicemail_messages_company_id_box", "company_id", "box"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    box: Mapped[str] = mapped_column(String(40))
    caller: Mapped[str] = mapped_column(Text)
    caller_name: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(Float)
    path: Mapped[str] = mapped_column(Text)
    heard: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupLogout(Base):
    """A member who logged out of an answering group (S8); members are in by default."""

    __tablename__ = "group_logouts"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    group: Mapped[str] = mapped_column(String(40), primary_key=True)
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)


class Forwarding(Base):
    """A user's call forwarding (U11): always, when busy, or on no answer, to a number."""

    __tablename__ = "forwardings"
    __table_args__ = (CheckConstraint("kind IN ('always', 'busy', 'no_answer')", name="kind"),)

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    target: Mapped[str] = mapped_column(String(40))


class VoicemailSwitch(Base):
    """A user's own choice, by phone or command line, to have their voicemail on or off (S6).

    Without a row the company description's `voicemail.enabled` decides.
    """

    __tablename__ = "voicemail_switches"

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


# -- the web side (P8, S7, U9) ------------------------------------------------------------

ROLES = ("provider", "admin", "user")


def _of_user(table: str) -> ForeignKeyConstraint:
    """The row goes with its user, and can never name another company's user."""
    return ForeignKeyConstraint(
        ["company_id", "extension"],
        ["users.company_id", "users.extension"],
        name=f"fk_{table}_company_id_extension_users",
        ondelete="CASCADE",
    )


class WebAccount(Base):
    """Who may log in to the web and the API: a provider admin (by e-mail, no company) or
    a company's user (by EXT@DOMAIN or e-mail), `admin` for the company's administrators.

    A user has a row once they have a web password or a role; the password is an argon2
    hash (services.accounts), never the SIP password, whose HA1s the switch keeps apart.
    Kept out of the users table, so a login never moves the switch's directory version.
    """

    __tablename__ = "web_accounts"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role"),
        CheckConstraint(
            "(role = 'provider') = (company_id IS NULL)"
            " AND (company_id IS NULL) = (extension IS NULL)",
            name="tenant",
        ),
        _of_user("web_accounts"),
        UniqueConstraint("company_id", "extension"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    extension: Mapped[str | None] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebSession(Base):
    """A logged-in browser: the cookie's token is kept only as its SHA-256."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("web_accounts.id", ondelete="CASCADE"), index=True
    )
    csrf: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A personal API token with its scopes; shown once, kept only as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("web_accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated: read write calls
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WallboardToken(Base):
    """A read-only token that shows one company's wallboard and nothing else (A11): for a TV
    without a login. Shown once, kept only as its SHA-256; revoking deletes the row, so a
    revoked token and one never made are the same unknown token."""

    __tablename__ = "wallboard_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(Text)  # the admin's login
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """One change made through the web or the API: who, from where, what, before and after.

    `before` and `after` are JSON without secrets; `company_id` is None for the provider's
    own changes (companies, provider admins).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_company_id_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(Text)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


DIVERSION_SCOPES = ("all", "fixed", "mobile")
STATUSES = ("lunch", "meeting", "away", "sick", "vacation", "custom")


class Diversion(Base):
    """A user's diversion (U9): "Lunch until 13:00". Callers hear the status and its end
    time instead of ringing (unless `ring`); from `until` on it no longer applies."""

    __tablename__ = "diversions"
    __table_args__ = (
        _of_user("diversions"),
        CheckConstraint(_one_of("scope", DIVERSION_SCOPES), name="scope"),
    )

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # lunch, meeting, away, ... or custom
    text: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ring: Mapped[bool] = mapped_column(Boolean, default=False)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Which calls it applies to (U9): all, only the fixed numbers, or only the mobile one.
    scope: Mapped[str] = mapped_column(String(8), default="all", server_default="all")


class AgentPause(Base):
    """An agent who paused (A5): no answering group offers them a call until they unpause.
    `reason` is one of the company's pause reasons ("" when none was given)."""

    __tablename__ = "agent_pauses"
    __table_args__ = (_of_user("agent_pauses"),)

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NumberRange(Base):
    """E.164 numbers `first`..`last` (same length) that the provider gave a company: its
    admin may put any of them in the description, and no other."""

    __tablename__ = "number_ranges"
    __table_args__ = (
        CheckConstraint("length(first) = length(last) AND first <= last", name="ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    first: Mapped[str] = mapped_column(String(20))
    last: Mapped[str] = mapped_column(String(20))


class ActivityForwarding(Base):
    """Where a user's calls go while a diversion of one status is on (U11: "Meeting" sends
    them to a colleague): an extension or an external number."""

    __tablename__ = "activity_forwardings"
    __table_args__ = (
        _of_user("activity_forwardings"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
    )

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    target: Mapped[str] = mapped_column(String(40))


class DiversionShortcut(Base):
    """One of a user's saved diversions, set with one press (U9): "Lunch 1 h", "Meeting
    until 15:30". It ends `minutes` after it is set, or at the next `at` (HH:MM), or never."""

    __tablename__ = "diversion_shortcuts"
    __table_args__ = (
        _of_user("diversion_shortcuts"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(_one_of("scope", DIVERSION_SCOPES), name="scope"),
        CheckConstraint("minutes IS NULL OR at IS NULL", name="one_end"),
        Index("ix_diversion_shortcuts_company_id_extension", "company_id", "extension"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer)
    extension: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[str | None] = mapped_column(String(5))
    scope: Mapped[str] = mapped_column(String(8))


class Favourite(Base):
    """A colleague a user starred (U4): listed first in their directory."""

    __tablename__ = "favourites"
    __table_args__ = (
        _of_user("favourites"),
        ForeignKeyConstraint(
            ["company_id", "colleague"],
            ["users.company_id", "users.extension"],
            name="fk_favourites_company_id_colleague_users",
            ondelete="CASCADE",
        ),
    )

    company_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    colleague: Mapped[str] = mapped_column(String(8), primary_key=True)


class Recording(Base):
    """A recorded call (A6): its WAV file in the company's folder, who was on it, when it
    started and how long it is. Written when the recording ends (the call's end, or a
    stop); deleted with its file by the company's retention."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_company_id_started_at", "company_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(Text)  # the switch's id of the call (live events')
    caller: Mapped[str] = mapped_column(Text)  # an extension or a number
    callee: Mapped[str] = mapped_column(Text)  # who answered, else what was dialled
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float] = mapped_column(Float)
    path: Mapped[str] = mapped_column(Text)


class ConferenceMeeting(Base):
    """A meeting booked in a conference room (A3): when, for how long, how it recurs,
    who was invited and the reminder. The room is named as the company's description
    names it; the room's PIN is never here (an invitation may carry it, once, as sent).
    `reminded_until` is the start of the last occurrence reminded, so a restarted switch
    never reminds of it twice; `last_start` (None: no end) lets the sweep skip the past."""

    __tablename__ = "conference_meetings"
    __table_args__ = (
        Index("ix_conference_meetings_company_id_room", "company_id", "room"),
        UniqueConstraint("uid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    room: Mapped[str] = mapped_column(Text)
    uid: Mapped[str] = mapped_column(Text)  # the iCalendar UID, the same in every message
    title: Mapped[str] = mapped_column(Text)
    organiser: Mapped[str] = mapped_column(Text)  # the login of the account that made it
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the first occurrence
    timezone: Mapped[str] = mapped_column(Text)  # the company's, when it was made
    duration_minutes: Mapped[int] = mapped_column(Integer)
    recurrence: Mapped[str | None] = mapped_column(Text)  # JSON (services/meetings.py)
    reminder_minutes: Mapped[int] = mapped_column(Integer)
    emails: Mapped[str] = mapped_column(Text)  # JSON list
    phones: Mapped[str] = mapped_column(Text)  # JSON list, E.164
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    last_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatMessage(Base):
    """A chat message between two colleagues (U4): from a phone's SIP MESSAGE or the web.
    A group message is kept once per member (`group_id`; the writer's own copy is read
    already). `delivered_at` is when a device of the recipient took it (None: waiting for
    one to register), `read_at` when the recipient read it on the web or the softphone."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        Index("ix_chat_messages_company_id_recipient", "company_id", "recipient", "id"),
        Index("ix_chat_messages_company_id_sender", "company_id", "sender", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(Text)  # an extension
    recipient: Mapped[str] = mapped_column(Text)  # an extension
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # In a group chat: the group; each member has their own copy (their own marks).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id", ondelete="CASCADE"))


class Contact(Base):
    """A user's own contact (U4): someone outside the company directory, with their
    numbers. Only its owner sees it; imported from and exported as vCards."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_company_id_owner", "company_id", "owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(Text)  # the user's extension
    name: Mapped[str] = mapped_column(Text)
    organisation: Mapped[str] = mapped_column(Text, default="")
    numbers: Mapped[str] = mapped_column(Text)  # JSON list of {"kind": ..., "number": ...}
    email: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatGroup(Base):
    """A group chat (U4): a name and its members (chat_group_members), within a company."""

    __tablename__ = "chat_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)  # an extension
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatGroupMember(Base):
    __tablename__ = "chat_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("chat_groups.id", ondelete="CASCADE"), primary_key=True
    )
    extension: Mapped[str] = mapped_column(Text, primary_key=True)


class PushSubscription(Base):
    """A browser's Web Push subscription (U1, RFC 8030/8291): where its push service takes
    messages for the user's installed app, and the keys to encrypt them with. The endpoint
    is a URL the browser chose: only push services on the allowed list are ever sent to."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        Index("ix_push_subscriptions_company_id_owner", "company_id", "owner"),
        UniqueConstraint("endpoint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(Text)  # the user's extension
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(Text)  # the browser's ECDH public key, base64url
    auth: Mapped[str] = mapped_column(Text)  # its authentication secret, base64url
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


CALLBACK_STATUSES = ("waiting", "calling", "done", "failed", "cancelled")
CALLBACK_SOURCES = ("queue", "menu", "scheduled")


class Callback(Base):
    """A callback asked for (A5, A1, A18): from a queue, keeping the caller's place; from a
    menu; or at a time slot. The list agents see; the switch writes each change of its
    `status`: waiting (in line or for its time), calling (a member answered, the number is
    being dialled), done, failed (no answer after its last attempt), cancelled."""

    __tablename__ = "callbacks"
    __table_args__ = (
        CheckConstraint(_one_of("status", CALLBACK_STATUSES), name="status"),
        CheckConstraint(_one_of("source", CALLBACK_SOURCES), name="source"),
        UniqueConstraint("key"),
        Index("ix_callbacks_company_id_requested_at", "company_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(Text)  # the switch's name for it, made when it is booked
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    group: Mapped[str] = mapped_column(Text)
    number: Mapped[str] = mapped_column(Text)  # to call
    caller: Mapped[str] = mapped_column(Text)  # who asked (their caller ID)
    source: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a scheduled one's slot
    status: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    agent: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


REPORT_SCHEDULES = ("", "daily", "weekly", "monthly")


class ReportSet(Base):
    """A company's saved set of statistics reports (S9, A10): which reports, their filters
    and period (`definition`, JSON: services/report_sets.py), and the addresses it is mailed
    to on its schedule ("" none). `mailed_for` is the start of the last schedule period
    mailed (written before the mail is sent), so a restarted switch never mails it twice."""

    __tablename__ = "report_sets"
    __table_args__ = (
        CheckConstraint(_one_of("schedule", REPORT_SCHEDULES), name="schedule"),
        UniqueConstraint("company_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(Text)  # JSON
    schedule: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    emails: Mapped[str] = mapped_column(Text, default="[]", server_default=text("'[]'"))
    mailed_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
