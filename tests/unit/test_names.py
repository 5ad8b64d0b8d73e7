"""Finding the caller's name: data collection first, then what the caller (never the agent) said."""

import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentic_memory.elevenlabs.post_call import DataCollectionResult
from agentic_memory.name_phrases import FIRST_NAME_FIELDS, FULL_NAME_FIELDS, LAST_NAME_FIELDS
from agentic_memory.names import (
    clean_name,
    field_key,
    name_from_data_collection,
    name_from_memories,
    name_from_text,
    name_from_variables,
)
from agentic_memory.ports import MemoryRecord


def collected(**values: Any) -> dict[str, DataCollectionResult]:
    return {key: DataCollectionResult(data_collection_id=key, value=value) for key, value in values.items()}


_ids = itertools.count(1)


def record(text: str, **metadata: Any) -> MemoryRecord:
    return MemoryRecord(id=f"mem-{next(_ids)}", text=text, metadata=metadata)


def test_collected_first_name_is_the_name() -> None:
    assert name_from_data_collection(collected(first_name="Margaret")) == "Margaret"


def test_collected_fields_are_preferred_in_the_declared_order() -> None:
    results = collected(first_name="Margaret", caller_name="Maggie Brown")

    assert name_from_data_collection(results) == "Maggie Brown"


@pytest.mark.parametrize("unusable", [None, "", "unknown", 42, "I did not catch it at all", "R2-D2!"])
def test_an_unusable_collected_value_falls_through_to_the_next_field(unusable: object) -> None:
    results = collected(caller_name=unusable, first_name="margaret")

    assert name_from_data_collection(results) == "Margaret"


def test_no_collected_name_gives_none() -> None:
    assert name_from_data_collection(collected(appointment_day="Thursday")) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi, my name is Margaret. I'd like to book a check-up.", "Margaret"),
        ("my name is margaret smith", "Margaret Smith"),
        ("Hello, my name is Margaret and I'm calling about Biscuit.", "Margaret"),
        ("My name's Walter.", "Walter"),
        ("Hi, call me Priya.", "Priya"),
        ("Please call me Sam", "Sam"),
        ("User name is Margaret.", "Margaret"),
        ("The user's name is Ana Lucia.", "Ana Lucia"),
        ("Caller name: José", "José"),
        ("MY NAME IS O'BRIEN", "O'BRIEN"),
    ],
)
def test_name_patterns_find_the_name(text: str, name: str) -> None:
    assert name_from_text(text) == name


@pytest.mark.parametrize(
    "text",
    [
        "Could you call me back?",
        "Call me later, I'm driving.",
        "Can you call me tomorrow?",
        "Call me when it's ready.",
        "Just call me anytime.",
        "My name is not important.",
        "My name is unknown to you.",
        "I'd like to book a check-up for my dog.",
        "",
    ],
)
def test_phrases_that_are_not_names_give_none(text: str) -> None:
    assert name_from_text(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Could you call me in the morning?",
        "Please call me tonight.",
        "Call me next week about it.",
        "Call me any time.",
        "Call me maybe.",
    ],
)
def test_common_call_me_phrases_are_not_names(text: str) -> None:
    assert name_from_text(text) is None


def test_the_newest_name_in_a_text_wins() -> None:
    assert name_from_text("My name is Samuel. Actually, just call me Sam.") == "Sam"


def test_collected_name_in_memory_metadata_beats_a_newer_spoken_one() -> None:
    memories = [
        record(
            "User name is Margaret.",
            type="factual",
            caller_name="Margaret",
            timestamp="2025-11-18T15:04:12+00:00",
        ),
        record("Oh, call me Maggie.", type="semantic", role="user", timestamp="2025-12-02T15:22:10+00:00"),
    ]

    assert name_from_memories(memories) == "Margaret"


def test_the_newest_collected_name_wins() -> None:
    memories = [
        record("x", caller_name="Maggie", timestamp="2025-12-02T15:22:10+00:00"),
        record("y", caller_name="Margaret", timestamp="2025-11-18T15:04:12+00:00"),
    ]

    assert name_from_memories(memories) == "Maggie"


def test_the_newest_spoken_name_wins_without_collected_names() -> None:
    memories = [
        record("My name is Samuel.", role="user", timestamp="2025-11-18T15:04:12+00:00"),
        record("Please call me Sam.", role="user", timestamp="2025-12-02T15:22:10+00:00"),
    ]

    assert name_from_memories(memories) == "Sam"


def test_the_agent_saying_its_own_name_is_ignored() -> None:
    memories = [record("Nice to meet you. My name is Ada, I'm the clinic's assistant.", role="assistant")]

    assert name_from_memories(memories) is None


def test_the_caller_name_is_found_past_a_newer_agent_introduction() -> None:
    memories = [
        record("My name is Ada.", role="assistant", timestamp="2025-12-02T15:22:10+00:00"),
        record("Hi, my name is Margaret.", role="user", timestamp="2025-11-18T15:04:12+00:00"),
    ]

    assert name_from_memories(memories) == "Margaret"


def test_no_memories_no_name() -> None:
    assert name_from_memories([]) is None


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  margaret. ", "Margaret"),
        ("Ana Lucia", "Ana Lucia"),
        ("maría de la cruz", "María de la Cruz"),
        ("anne-marie o'neill", "Anne-Marie O'Neill"),
        ("the", None),
        ("a b c d", None),
        ("María José García López Ruiz", None),
        ("J", None),
        ("John 李", None),
        ("J\u030c", None),
        ("there", None),
        ("Not provided", None),
        (7, None),
    ],
)
def test_clean_name(raw: object, cleaned: str | None) -> None:
    assert clean_name(raw) == cleaned


@given(st.text(max_size=200))
def test_any_text_yields_no_name_or_at_most_four_words_in_sixty_characters(text: str) -> None:
    name = name_from_text(text)

    if name is not None:
        words = name.split(" ")
        assert 1 <= len(words) <= 4
        assert len(name) <= 60
        assert all(word for word in words)


@given(
    st.dictionaries(
        st.sampled_from((*FULL_NAME_FIELDS, *FIRST_NAME_FIELDS, *LAST_NAME_FIELDS)),
        st.one_of(st.none(), st.integers(), st.text(max_size=40)),
    )
)
def test_any_collected_values_never_raise(values: Mapping[str, Any]) -> None:
    name = name_from_data_collection(collected(**values))

    assert name is None or name.strip() == name


# Jiří typed with combining marks (J, i, r + caron, i + acute): it must come out composed (NFC).
JIRI_DECOMPOSED = "Jir\u030ci\u0301"
JIRI = "Ji\u0159\u00ed"


def test_the_decomposed_and_composed_jiri_are_one_name() -> None:
    assert JIRI_DECOMPOSED != JIRI
    assert clean_name(JIRI_DECOMPOSED) == JIRI
    assert clean_name(JIRI) == JIRI
    assert name_from_text(f"Dobrý den, jmenuji se {JIRI_DECOMPOSED}.") == JIRI
    assert name_from_text(f"My name is {JIRI}.") == JIRI


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # Spanish, French, German, Italian, Portuguese, Dutch
        ("Hola, me llamo María José y llamo por mi cita.", "María José"),
        ("Mi nombre es Lucía Fernández.", "Lucía Fernández"),
        ("Buenas, soy Alejandro.", "Alejandro"),
        ("Bonjour, je m'appelle Jean-Luc.", "Jean-Luc"),
        ("Bonjour, je m’appelle Hélène, je voudrais un rendez-vous.", "Hélène"),
        ("Moi c'est Amélie.", "Amélie"),
        ("Je suis Marie Dubois.", "Marie Dubois"),
        ("Guten Tag, ich heiße Jürgen.", "Jürgen"),
        ("ich heisse Jürgen", "Jürgen"),
        ("Mein Name ist Ingrid Weiß.", "Ingrid Weiß"),
        ("Hallo, ich bin Thomas.", "Thomas"),
        ("Mi chiamo Giulia.", "Giulia"),
        ("Buongiorno, sono Marco.", "Marco"),
        ("Il mio nome è Francesca.", "Francesca"),
        ("Olá, meu nome é João.", "João"),
        ("Eu me chamo Conceição.", "Conceição"),
        ("Goedemiddag, ik heet Sanne de Vries.", "Sanne de Vries"),
        ("Me llamo María de la Cruz.", "María de la Cruz"),
        ("Soy María de Madrid.", "María"),
        ("Ik heet Sanne de.", "Sanne"),
        ("Mijn naam is Pieter.", "Pieter"),
        # Polish, Turkish, Czech, Russian, Greek
        ("Dzień dobry, nazywam się Łucja.", "Łucja"),
        ("Mam na imię Bożena.", "Bożena"),
        ("Merhaba, benim adım Şükrü.", "Şükrü"),
        ("Adım Şükrü Yılmaz.", "Şükrü Yılmaz"),
        ("Меня зовут Дмитрий.", "Дмитрий"),
        ("меня зовут дмитрий", "Дмитрий"),
        ("Με λένε Γιώργος.", "Γιώργος"),
        # Scripts without case: only unambiguous phrasings
        ("你好，我叫李小龙。", "李小龙"),
        ("我的名字是王芳", "王芳"),
        ("私の名前は田中です。", "田中"),
        ("私は田中太郎と申します。", "田中太郎"),
        ("मेरा नाम राहुल शर्मा है।", "राहुल शर्मा"),
        ("مرحبا، اسمي أحمد.", "أحمد"),
        ("שמי דנה.", "דנה"),
        ("제 이름은 김민수입니다.", "김민수"),
        ("User name is アレクサンダー.", "アレクサンダー"),
        ("私の名前は佐々木です。", "佐々木"),
        ("Benim adım Can.", "Can"),
        ("Hi, my name is Will.", "Will"),
        ("Ich heiße Strauß.", "Strauß"),
        # Several words, hyphens and apostrophes, English phrasings
        ("Hi, I'm Anne-Marie O'Neill, I need to reschedule.", "Anne-Marie O'Neill"),
        ("Hello, this is Margaret from the bakery.", "Margaret"),
        ("Hi, it's Margaret here.", "Margaret"),
        ("I am Rosalind Franklin.", "Rosalind Franklin"),
        ("Soy María José García López.", "María José García López"),
        ("my name is margaret calling about my dog", "Margaret"),
        # A clause that runs on past the name; stop words that are also name words
        ("اسمي محمد وأتصل بخصوص قطتي", "محمد"),
        ("اسمي محمد احمد علي", "محمد احمد علي"),
        ("My name is Nguyen Van An", "Nguyen Van An"),
        ("Tên tôi là Nguyễn Văn An", "Nguyễn Văn An"),
        ("Tên tôi là Trần Văn Be, tôi gọi về lịch hẹn.", "Trần Văn Be"),
        ("me llamo ana y llamo", "Ana"),
        ("my name is sanne van dijk", "Sanne van Dijk"),
    ],
)
def test_introductions_in_many_languages_and_scripts_give_the_whole_name(text: str, name: str) -> None:
    assert name_from_text(text) == name


@pytest.mark.parametrize(
    "text",
    [
        # Ambiguous phrasings followed by something else than a name
        "I'm fine, thanks.",
        "I am not sure.",
        "I'm English.",
        "soy de Madrid",
        "Soy de Madrid.",
        "ich bin müde",
        "Ich bin Kunde bei Ihnen.",
        "this is about my order",
        # A capitalised stop word ending the run before other words: no fragment of a name
        "My name is John And I need help.",
        "This is Margaret's husband.",
        "it's cold here",
        "je suis désolé",
        "sono di Roma",
        "adım adım gidiyoruz",
        "Ich heiße Sie herzlich willkommen.",
        # Truncated, overlong or one-letter results
        "My name is J.",
        "My name is John Paul George Ringo Starr.",
        "我叫李小龙我想预约明天",
        "我叫了出租车。",
        "This is Dr. Smith.",
        "I'm 42.",
    ],
)
def test_no_name_is_better_than_a_wrong_one(text: str) -> None:
    assert name_from_text(text) is None


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("firstName", "first name"),
        ("Given Name", "given name"),
        ("caller-name", "caller name"),
        ("CALLER_FULL_NAME", "caller full name"),
        ("callerFullName", "caller full name"),
        ("first__name", "first name"),
        ("Name", "name"),
    ],
)
def test_field_names_are_compared_normalised(field: str, key: str) -> None:
    assert field_key(field) == key


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"firstName": "Łucja"}, "Łucja"),
        ({"Given Name": JIRI_DECOMPOSED}, JIRI),
        ({"caller name": "Şükrü"}, "Şükrü"),
        ({"Name": "Дмитрий"}, "Дмитрий"),
        ({"full_name": "María José García"}, "María José García"),
        ({"caller_full_name": "李小龙"}, "李小龙"),
        ({"first_name": JIRI, "last_name": "Novák"}, f"{JIRI} Novák"),
        ({"Last Name": "Novák", "firstName": "jiří"}, f"{JIRI} Novák"),
        ({"given_name": "Margaret", "surname": "Brown", "caller_name": "Maggie"}, "Maggie"),
        ({"first_name": "Margaret Brown", "last_name": "Brown"}, "Margaret Brown"),
        ({"last_name": "Novák"}, None),
        ({"pet_name": "Biscuit", "company name": "Acme"}, None),
    ],
)
def test_collected_names_in_any_field_naming(values: dict[str, Any], name: str | None) -> None:
    assert name_from_data_collection(collected(**values)) == name


@pytest.mark.parametrize(
    ("variables", "name"),
    [
        ({"caller_name": "Дмитрий", "caller_id": "+15550100142", "returning_caller": "yes"}, "Дмитрий"),
        ({"caller_name": JIRI_DECOMPOSED}, JIRI),
        ({"caller_name": ""}, None),
        ({"caller_name": "there"}, None),
        ({"caller_name": "Unknown"}, None),
        ({"caller_name": "{{caller_name}}"}, None),
        ({"system__caller_id": "+15550100142", "memory_summary": "1 previous call."}, None),
    ],
)
def test_the_echoed_caller_name_variable_unless_it_is_a_placeholder(
    variables: dict[str, Any], name: str | None
) -> None:
    assert name_from_variables(variables) == name
