"""Review checks and the policy that turns flags into a decision."""

from __future__ import annotations

from tl_loop import Decision, Detection, ReviewFlag, ReviewPolicy, Severity, Thresholds
from tl_loop._policy import (
    check_language,
    check_length_ratio,
    check_numbers,
    check_untranslated,
)


def flag(code: str, severity: Severity) -> ReviewFlag:
    return ReviewFlag(code=code, severity=severity, detail="")


def test_no_flags_sends() -> None:
    assert ReviewPolicy().decide([], direction="outbound") is Decision.SEND


def test_warnings_send_flagged_and_errors_hold_outbound() -> None:
    policy = ReviewPolicy()
    warning = [flag("length_ratio", Severity.WARNING)]
    error = [flag("token_parity", Severity.ERROR)]
    assert policy.decide(warning, direction="outbound") is Decision.SEND_FLAGGED
    assert policy.decide(error, direction="outbound") is Decision.HOLD


def test_inbound_is_never_held() -> None:
    error = [flag("engine_failed", Severity.ERROR)]
    assert ReviewPolicy().decide(error, direction="inbound") is Decision.SEND_FLAGGED


def test_policy_can_hold_on_a_warning_code() -> None:
    policy = ReviewPolicy(hold_codes=frozenset({"glossary_violation"}))
    flags = [flag("glossary_violation", Severity.WARNING)]
    assert policy.decide(flags, direction="outbound") is Decision.HOLD


def test_info_flags_alone_do_not_mark() -> None:
    assert ReviewPolicy().decide([flag("pivot", Severity.INFO)], direction="outbound") is (
        Decision.SEND
    )


def test_numbers_in_other_locale_formats_are_the_same_number() -> None:
    assert (
        check_numbers("It costs 1,299.50 and takes 3 days", "Cuesta 1.299,50 y tarda 3 días") == []
    )


def test_dropped_and_invented_numbers_are_named() -> None:
    [problem] = check_numbers("Wait 3 days for 2 parcels", "Espere 4 días para 2 paquetes")
    assert "missing 3" in problem.detail
    assert "unexpected 4" in problem.detail


def test_length_ratio_bounds() -> None:
    source = "Your refund has been processed and will arrive soon."
    assert (
        check_length_ratio(source, "Su reembolso ha sido procesado y llegará pronto.", Thresholds())
        == []
    )
    assert check_length_ratio(source, "Sí.", Thresholds())[0].code == "length_ratio"


def test_copied_output_is_flagged_untranslated() -> None:
    source = "Please restart the application and try again"
    assert check_untranslated(source, source, Thresholds())[0].code == "untranslated"
    assert (
        check_untranslated(source, "Reinicie la aplicación e inténtelo de nuevo", Thresholds())
        == []
    )


def test_confident_other_language_is_flagged() -> None:
    text = "Please restart the application and try again later."
    english = Detection(language="en", confidence=0.97)
    [problem] = check_language(english, translated=text, target="es", thresholds=Thresholds())
    assert problem.code == "wrong_language"
    unsure = Detection(language="en", confidence=0.5)
    assert check_language(unsure, translated=text, target="es", thresholds=Thresholds()) == []
    assert check_language(english, translated=text, target="en-US", thresholds=Thresholds()) == []
