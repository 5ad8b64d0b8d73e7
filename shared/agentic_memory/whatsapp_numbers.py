"""WhatsApp user ids and the phone numbers they stand for: one person, one key on every channel.

A WhatsApp user id (``metadata.whatsapp.whatsapp_user_id`` after the conversation, ``caller_id`` in
the pre-call of an inbound WhatsApp conversation) is one of two things:

* the person's phone number as international digits without the "+" (Meta's Cloud API ``wa_id``,
  ``15550100188``), kept in the form the account was registered with, which in two countries is not
  the number's form today (the rules below);
* a business-scoped user id (BSUID) for a person who took a WhatsApp username and hid their number:
  a two-letter ISO country code, a period and up to 128 letters and digits (``US.13491208655302741918``;
  a parent BSUID shared by a business's portfolios has ``ENT.`` after the period). Meta's WhatsApp
  Business Platform page "Business-scoped user IDs" (usernames roll out in 2026) describes it, and
  BSP guides (360dialog's "Usernames & BSUID") give the format: stable per person and business, to be
  stored as received, no phone number derivable from it. It is an identity of its own.

The national rules, as data. Each rewrites the digits of a number (after the "+") from the form
WhatsApp (or an old contact list, or an old trunk) keeps to the form the country dials today, so the
WhatsApp id and a phone call from the same person give one key, whichever is seen first:

* Mexico (+52). Mobiles used to be dialled from abroad with a "1" after the country code
  (+52 1 + 10 digits). The regulator (IFT) moved the country to a closed ten-digit plan, and from
  August 2019 the "1" (and the national 044/045 prefixes) was no longer dialled. WhatsApp ids of
  Mexican mobiles still carry it (``521`` + 10 digits), a form the numbering-plan library rightly
  calls impossible today. Mexican ten-digit numbers never begin with 0 or 1, so ``52 1`` followed by
  ten digits is always a mobile with its old "1": it becomes ``+52`` and the ten digits.
* Brazil (+55). ANATEL added a ninth digit, "9", in front of every mobile number, area code by area
  code, from São Paulo in 2012 to the last areas in 2016: mobiles are a two-digit area code and nine
  digits starting with 9. WhatsApp accounts registered before the change keep the eight-digit form
  (``55 11 8765-0401`` for ``+55 11 98765-0401``). Eight-digit numbers starting with 2 to 5 are
  landlines and keep their form; those starting with 6 to 9 were mobiles and get the "9". Area codes
  have two digits from 1 to 9 (none contains a 0).

A rule applies to the digits as a whole (a full match), so a number already in today's form is left
as it is and applying the rules twice gives the same key.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NationalRule:
    """A rewrite of a number's digits (E.164 without the "+") into today's form, and why."""

    country: str
    old_form: re.Pattern[str]
    todays_form: str
    source: str


NATIONAL_RULES = (
    NationalRule(
        country="MX",
        old_form=re.compile(r"521([2-9][0-9]{9})"),
        todays_form=r"52\1",
        source="IFT, closed ten-digit numbering plan: the mobile '1' is no longer dialled from August 2019",
    ),
    NationalRule(
        country="BR",
        old_form=re.compile(r"55([1-9][1-9])([6-9][0-9]{7})"),
        todays_form=r"55\g<1>9\2",
        source="ANATEL, ninth digit '9' added to mobile numbers area by area, 2012 to 2016",
    ),
)

# Meta's business-scoped user id: "US.13491208655302741918", a parent one "US.ENT.11815799212886844830".
BUSINESS_SCOPED_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
# A WhatsApp id that is a phone number: international digits, no "+", no separators.
WHATSAPP_NUMBER_ID = re.compile(r"[1-9][0-9]{6,14}")


def todays_form(e164: str) -> str:
    """``e164`` (``+5215512345678``) in the form its country dials today (``+525512345678``).

    Numbers no rule covers, and anything that is not ``+`` and digits, are returned unchanged.
    """
    digits = e164.removeprefix("+")
    if not e164.startswith("+") or not (digits.isascii() and digits.isdigit()):
        return e164
    for rule in NATIONAL_RULES:
        if rule.old_form.fullmatch(digits):
            return "+" + rule.old_form.sub(rule.todays_form, digits)
    return e164


def is_business_scoped_id(raw: str) -> bool:
    """True for a WhatsApp business-scoped user id (BSUID) such as ``US.13491208655302741918``."""
    return BUSINESS_SCOPED_ID.fullmatch(raw) is not None


def number_of_whatsapp_id(raw: str) -> str | None:
    """The phone number a WhatsApp id made of digits stands for, with its "+" (``+15550100188``).

    The digits are international whatever the deployment's country: they are never read as a national
    number. None when ``raw`` is no such id (a BSUID, a number written with "+" or separators).
    """
    return "+" + raw if WHATSAPP_NUMBER_ID.fullmatch(raw) else None
