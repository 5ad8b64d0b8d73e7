"""The name correction's text rule: the former name where it denotes the caller, nobody else's."""

from datetime import UTC, datetime

from agentic_memory.corrections import Correction, Corrections, name_pairs, renamed

AT = datetime(2026, 1, 1, tzinfo=UTC)


def pairs(former: str, name: str) -> list[tuple[str, str]]:
    return name_pairs(Correction(kind="name", at=AT, by="test", name=name, replaces=former))


def test_the_callers_name_is_replaced_as_a_whole_word() -> None:
    given = pairs("Margaret", "Eleanor")
    assert renamed("Margaret called. Thanks, Margaret! Margaret's dog.", given) == (
        "Eleanor called. Thanks, Eleanor! Eleanor's dog."
    )
    assert renamed("Margarethe and Annemargaret", given) == "Margarethe and Annemargaret"


def test_someone_else_of_that_name_keeps_it() -> None:
    given = pairs("Margaret", "Eleanor")
    text = "Margaret booked for her daughter Margaret with Dr. Margaret Hill; Margaret, my mother, came too."
    assert renamed(text, given) == (
        "Eleanor booked for her daughter Margaret with Dr. Margaret Hill; Margaret, my mother, came too."
    )


def test_a_full_name_is_replaced_whole_then_by_its_first_word() -> None:
    given = pairs("Margaret Hill", "Eleanor Hill")
    assert renamed("Margaret Hill, or Margaret, called", given) == "Eleanor Hill, or Eleanor, called"


def test_corrections_apply_in_order_and_the_last_name_is_the_operators() -> None:
    record = Corrections(
        caller_id="+15550100142",
        entries=(
            Correction(kind="name", at=AT, by="a", name="Eleanor", replaces="Margaret"),
            Correction(kind="name", at=AT, by="b", name="Ellie", replaces="Eleanor"),
        ),
    )
    assert renamed("Margaret and Eleanor", record.renames()) == "Ellie and Ellie"
    operator = record.operator_name()
    assert operator is not None and (operator.name, operator.source) == ("Ellie", "operator")
