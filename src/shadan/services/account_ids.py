"""Account ids: their canonical form, and the heuristic that refuses ids that look shared (共用ID).

Shared IDs are how retail staff read T&D data for years without any log naming a person (DESIGN §1), so
an id that *looks* meant for a group is refused even when it is tied to one person: it will be handed on.
The heuristic is documented in docs/identity.md; it errs on the side of refusing, and the remedy is cheap
(choose an id derived from the person, such as the employee number or name).
"""

from __future__ import annotations

import re
import unicodedata

from shadan.domain.errors import InvalidInput, SharedIdRefused
from shadan.domain.identity import AccountKind

ACCOUNT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{2,63}")

# Words that name a group, a place or a function rather than a person, matched anywhere in the id.
SHARED_WORDS: frozenset[str] = frozenset(
    {
        "shared", "share", "common", "kyotsu", "kyotsuu", "kyoutsu", "kyoutsuu", "kyoyu", "kyouyu",
        "kyoyuu", "kyouyuu", "everyone", "generic", "anonymous", "guest", "public", "madoguchi",
        "uketsuke", "zenin", "minna", "helpdesk", "callcenter", "kanrisha", "administrator",
    }
)  # fmt: skip
# Shorter words, refused only as a whole part of the id ("team-a", "dept01") so "steam" or "allen" pass.
SHARED_TOKENS: frozenset[str] = frozenset(
    {
        "team", "group", "grp", "dept", "section", "sect", "bumon", "kakari", "all",
        "test", "tester", "testuser", "demo", "sample", "temp", "tmp", "dummy", "admin", "adm", "root",
        "user", "users", "staff", "member", "members", "office", "desk", "center", "centre", "tanto",
        "tantou", "eigyo", "eigyou", "operator", "op", "ope", "terminal", "term", "pc", "kiosk",
        "account", "acct", "login", "id", "worker", "clerk", "shift", "night", "yakin", "duty",
        "toban", "touban", "room", "floor", "branch", "shiten", "honsha", "eigyosho",
    }
)  # fmt: skip
# Japanese words for "shared", "everyone", a department, a counter, a test or an administrator.
SHARED_JAPANESE: tuple[str, ...] = (
    "共通", "共用", "共有", "全員", "部署", "部門", "窓口", "受付", "当番",
    "テスト", "ゲスト", "管理者", "担当者",
)  # fmt: skip
# Words a service account may use to say what it is (service ids name a job, not a person).
SERVICE_WORDS: frozenset[str] = frozenset({"svc", "service", "batch", "job", "system", "sys", "bot", "api"})

_TOKEN_SPLIT = re.compile(r"[^a-z]+")


def canonical_account_id(raw: str) -> str:
    """NFKC, trimmed, lower case: `Ｔ．Yamada ` and `t.yamada` are one id (login uses the same form)."""
    return unicodedata.normalize("NFKC", raw).strip().lower()


def validate_account_id(raw: str) -> str:
    account_id = canonical_account_id(raw)
    if not ACCOUNT_ID_PATTERN.fullmatch(account_id):
        raise InvalidInput(
            "アカウントIDは3〜64文字の半角英小文字・数字・記号（. _ @ -）で、英数字で始めてください。"
        )
    return account_id


def shared_id_reason(raw: str, kind: AccountKind = AccountKind.PERSONAL) -> str | None:
    """Why `raw` looks like a shared ID (Japanese), or None when it looks personal."""
    text = unicodedata.normalize("NFKC", raw).strip()
    folded = text.casefold()
    for word in SHARED_JAPANESE:
        if word in text:
            return f"「{word}」を含むIDは共用IDとみなされます。"
    for word in sorted(SHARED_WORDS):
        if word in folded:
            return f"「{word}」を含むIDは共用IDとみなされます。"
    tokens = [t for t in _TOKEN_SPLIT.split(folded) if t]
    allowed = SERVICE_WORDS if kind is AccountKind.SERVICE else frozenset()
    for token in tokens:
        if token in SHARED_TOKENS and token not in allowed:
            return f"「{token}」という部分を含むIDは共用IDとみなされます。"
    return None


def refuse_if_shared(raw: str, kind: AccountKind = AccountKind.PERSONAL) -> None:
    reason = shared_id_reason(raw, kind)
    if reason is not None:
        raise SharedIdRefused(f"共用IDは作成できません: {reason}個人を特定できるIDにしてください。")
