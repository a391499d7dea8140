"""Language detection and the sticky customer-language policy, on real short support messages."""

from __future__ import annotations

import threading

import pytest

from tl_loop import DEFAULT_LANGUAGES, ConfigurationError, Conversation, Detection, StickyPolicy
from tl_loop.text import LanguageDetector, choose_customer_language


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _after(conversation: Conversation, text: str, detector: LanguageDetector) -> Conversation:
    """Run one customer message through detection and the policy, as the loop does."""
    language, confidence = choose_customer_language(conversation, detector.detect(text), text=text)
    conversation.customer_language = language
    conversation.customer_language_confidence = confidence
    return conversation


def _spanish(confidence: float = 0.95) -> Conversation:
    return Conversation(customer_language="es", customer_language_confidence=confidence)


# --- detection -------------------------------------------------------------------------------


def test_greek_order_message_is_greek(detector: LanguageDetector) -> None:
    detection = detector.detect("Παραγγελία μου δεν έφτασε ακόμα")
    assert detection.language == "el"
    assert detection.confidence >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "Mano užsakymas dar neatvyko, ką daryti?",
        "Labas, kada gausiu prekes?",
        "Ačiū už pagalbą, viskas tvarkoje",
    ],
)
def test_lithuanian_is_lithuanian(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text).language == "lt"


@pytest.mark.parametrize(
    "text",
    [
        "سفارش من هنوز نرسیده است",
        "سلام، سفارشم کی می‌رسه؟",
        "کد رهگیری مرسوله چیزی نشان نمی‌دهد.",
    ],
)
def test_persian_is_persian_not_arabic(detector: LanguageDetector, text: str) -> None:
    detection = detector.detect(text)
    assert detection.language == "fa"
    assert detection.confidence >= 0.9


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Mi pedido todavía no ha llegado", "es"),
        ("Hola, no puedo iniciar sesión en mi cuenta", "es"),
        ("Hola, no puc iniciar sessió al compte", "ca"),
        ("moltes gràcies, ja funciona", "ca"),
        ("O meu pedido ainda não chegou", "pt"),
        ("Olá, não consigo entrar na minha conta", "pt"),
    ],
)
def test_close_romance_languages_are_told_apart(
    detector: LanguageDetector, text: str, language: str
) -> None:
    assert detector.detect(text).language == language


@pytest.mark.parametrize(
    "text",
    [
        "A miña encomenda aínda non chegou",
        "Ola, non podo entrar na miña conta",
        "Non recibín o correo de confirmación.",
        "Grazas, xa funciona todo ben.",
    ],
)
def test_galician_is_told_apart_from_spanish_and_portuguese(
    detector: LanguageDetector, text: str
) -> None:
    # lingua has no Galician model; its own function words decide (tl_loop.text._galician).
    assert detector.detect(text).language == "gl"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("No recibí el correo de confirmación, ¿me lo pueden reenviar?", "es"),
        ("Ainda não recebi o e-mail de confirmação, podem reenviar?", "pt"),
        ("Hola, no puedo entrar en mi cuenta desde ayer por la tarde.", "es"),
        ("A minha encomenda ainda não chegou, podem verificar?", "pt"),
    ],
)
def test_spanish_and_portuguese_are_not_mistaken_for_galician(
    detector: LanguageDetector, text: str, language: str
) -> None:
    assert detector.detect(text).language == language


@pytest.mark.parametrize(
    "text",
    [
        "👍🙏😊",
        "12/05/2024 48213 €39,90",
        "https://shop.example.com/orders/48213",
        "ana.garcia@example.com",
        "...!!!",
        "",
    ],
)
def test_text_without_words_has_no_language(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == Detection(language=None, confidence=0.0)


def test_script_outside_the_configured_languages_has_no_language(
    detector: LanguageDetector,
) -> None:
    assert detector.detect("สวัสดีครับ").language is None  # Thai is not configured


def test_links_and_addresses_do_not_sway_detection(detector: LanguageDetector) -> None:
    text = "Mi pedido https://shop.example.com/orders/48213 no llegó, escribidme a ana@example.com"
    assert detector.detect(text).language == "es"


def test_candidates_are_ranked_and_start_with_the_answer(detector: LanguageDetector) -> None:
    detection = detector.detect("سلام، سفارشم کی می‌رسه؟")
    languages = [language for language, _ in detection.candidates]
    scores = [score for _, score in detection.candidates]
    assert languages[:2] == ["fa", "ar"]
    assert scores == sorted(scores, reverse=True)
    assert detection.confidence == scores[0]


def test_detect_many_matches_detect_in_order(detector: LanguageDetector) -> None:
    texts = ["Mi pedido todavía no ha llegado", "👍", "Παραγγελία μου δεν έφτασε ακόμα", ""]
    many = detector.detect_many(texts)
    one_by_one = [detector.detect(text) for text in texts]
    assert (
        [d.language for d in many] == [d.language for d in one_by_one] == ["es", None, "el", None]
    )
    assert [d.confidence for d in many] == pytest.approx([d.confidence for d in one_by_one])
    assert detector.detect_many([]) == []


def test_one_detector_is_safe_to_share_between_threads(detector: LanguageDetector) -> None:
    texts = [
        "Mi pedido todavía no ha llegado",
        "Mano užsakymas dar neatvyko",
        "我没有收到确认邮件。",
    ]
    expected = [detector.detect(text).language for text in texts]
    results: list[list[str | None]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                results.append([detector.detect(text).language for text in texts])
        except BaseException as exc:  # collected so the main thread can fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 200
    assert all(result == expected for result in results)


# --- configuration ---------------------------------------------------------------------------


def test_default_languages_all_work_and_are_reported() -> None:
    assert LanguageDetector().languages == DEFAULT_LANGUAGES


def test_regional_tags_are_reduced_to_languages_and_deduplicated() -> None:
    detector = LanguageDetector(["pt-BR", "pt_pt", "EN"])
    assert detector.languages == ("pt", "en")
    assert detector.detect("Olá, não consigo entrar na minha conta").language == "pt"


def test_unknown_language_names_what_lingua_supports() -> None:
    with pytest.raises(ConfigurationError, match=r"cannot detect 'tlh'.*\bca\b.*\bes\b"):
        LanguageDetector(["es", "tlh"])


def test_galician_needs_a_neighbour_in_the_set() -> None:
    with pytest.raises(ConfigurationError, match="Galician"):
        LanguageDetector(["en", "gl"])
    assert LanguageDetector(["es", "gl"]).detect("Grazas, xa funciona todo ben.").language == "gl"


@pytest.mark.parametrize(
    ("languages", "problem"),
    [
        ("en", "sequence of tags"),
        (["en", "not a tag!"], "not a language tag"),
        (["en"], "at least two"),
        (["en", "en-GB"], "at least two"),
        ([], "at least two"),
    ],
)
def test_bad_language_lists_are_configuration_errors(languages: list[str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        LanguageDetector(languages)


def test_preloaded_detector_detects_like_a_lazy_one() -> None:
    preloaded = LanguageDetector(["en", "es", "el"], preload=True)
    assert preloaded.detect("Mi pedido todavía no ha llegado").language == "es"


def test_low_accuracy_mode_still_detects_clear_messages() -> None:
    low = LanguageDetector(["en", "es", "el"], low_accuracy=True)
    assert low.detect("Παραγγελία μου δεν έφτασε ακόμα").language == "el"
    assert low.detect("Mi pedido todavía no ha llegado").language == "es"


@pytest.mark.parametrize(
    "options",
    [
        {"min_confidence": 1.5},
        {"min_confidence": -0.1},
        {"unconfirmed_margin": 2.0},
        {"unconfirmed_min_confidence": -1.0},
        {"min_letters": -1},
    ],
)
def test_impossible_policies_are_rejected(options: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError, match="StickyPolicy"):
        StickyPolicy(**options)  # type: ignore[arg-type]


# --- the sticky policy, end to end -----------------------------------------------------------


def test_ok_thx_does_not_flip_a_spanish_conversation(detector: LanguageDetector) -> None:
    conversation = _after(_spanish(), "ok thx", detector)
    assert (conversation.customer_language, conversation.customer_language_confidence) == (
        "es",
        0.95,
    )


@pytest.mark.parametrize("text", ["thank you", "yes please", "gracias!!", "好的谢谢"])
def test_short_replies_do_not_flip_a_confirmed_language(
    detector: LanguageDetector, text: str
) -> None:
    conversation = Conversation(customer_language="fr", customer_language_confidence=0.9)
    assert _after(conversation, text, detector).customer_language == "fr"


def test_confident_long_english_message_flips_a_spanish_conversation(
    detector: LanguageDetector,
) -> None:
    text = "The parcel still has not arrived and the tracking page shows no update since Monday."
    conversation = _after(_spanish(), text, detector)
    assert conversation.customer_language == "en"
    assert conversation.customer_language_confidence >= 0.9


def test_short_chinese_sentence_counts_as_enough_text(detector: LanguageDetector) -> None:
    conversation = Conversation(customer_language="en", customer_language_confidence=0.9)
    assert _after(conversation, "我没有收到确认邮件。", detector).customer_language == "zh"


def test_manual_override_never_flips(detector: LanguageDetector) -> None:
    conversation = Conversation()
    conversation.override_customer_language("es")
    text = "The parcel still has not arrived and the tracking page shows no update since Monday."
    for message in (text, "Παραγγελία μου δεν έφτασε ακόμα", "ok thx"):
        _after(conversation, message, detector)
    assert conversation.customer_language == "es"
    assert conversation.customer_language_confidence == 1.0


def test_cleared_override_lets_detection_change_it_again(detector: LanguageDetector) -> None:
    conversation = Conversation()
    conversation.override_customer_language("es")
    conversation.clear_override()
    _after(conversation, "Παραγγελία μου δεν έφτασε ακόμα, τι συμβαίνει;", detector)
    assert conversation.customer_language == "el"


def test_first_message_sets_the_language_however_unsure(detector: LanguageDetector) -> None:
    conversation = _after(Conversation(), "ok thx", detector)
    assert conversation.customer_language is not None
    assert conversation.customer_language_confidence < 0.5  # recorded as unsure


def test_unsure_first_guess_is_corrected_by_a_clearer_short_message(
    detector: LanguageDetector,
) -> None:
    conversation = _after(Conversation(), "ok thx", detector)
    _after(conversation, "gracias!!", detector)
    assert conversation.customer_language == "es"
    _after(conversation, "thank you", detector)  # not clearly surer than "gracias!!"
    assert conversation.customer_language == "es"


def test_language_known_from_elsewhere_survives_a_weak_guess(detector: LanguageDetector) -> None:
    # e.g. taken from the helpdesk profile with no detection behind it
    conversation = _after(_spanish(confidence=0.0), "ok thx", detector)
    assert conversation.customer_language == "es"


def test_messages_without_words_change_nothing(detector: LanguageDetector) -> None:
    for text in ("👍", "48213", "https://shop.example.com/orders/48213"):
        assert _after(_spanish(), text, detector).customer_language == "es"
        assert _after(Conversation(), text, detector).customer_language is None


def test_agreeing_detection_raises_the_confidence_and_keeps_the_region(
    detector: LanguageDetector,
) -> None:
    conversation = Conversation(customer_language="pt-BR", customer_language_confidence=0.3)
    _after(conversation, "O meu pedido ainda não chegou", detector)
    assert conversation.customer_language == "pt-BR"
    assert conversation.customer_language_confidence >= 0.9
    _after(conversation, "obrigado", detector)  # weaker agreement does not lower it
    assert conversation.customer_language_confidence >= 0.9


def test_a_galician_customer_is_recognised_over_a_first_guess(
    detector: LanguageDetector,
) -> None:
    conversation = Conversation(customer_language="pt", customer_language_confidence=0.95)
    text = "A miña encomenda aínda non chegou e non teño noticias"
    assert _after(conversation, text, detector).customer_language == "gl"


def test_policy_thresholds_are_honoured() -> None:
    confident_short = Detection(language="en", confidence=0.95)
    assert choose_customer_language(_spanish(), confident_short, text="ok thx") == ("es", 0.95)
    eager = StickyPolicy(min_letters=0)
    assert choose_customer_language(_spanish(), confident_short, text="ok thx", policy=eager) == (
        "en",
        0.95,
    )
    strict = StickyPolicy(min_confidence=0.99)
    long_text = "The parcel still has not arrived and the tracking page shows nothing."
    assert choose_customer_language(_spanish(), confident_short, text=long_text, policy=strict) == (
        "es",
        0.95,
    )
