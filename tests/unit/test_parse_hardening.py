"""parse_mail on odd real-world mail (issue #14): readable mail is kept, text is not garbled,
encoded blocks become attachments, HTML of any size becomes text, every fallback is a defect."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import pytest

from maildesk.inbound.decoding import decode_bytes, decode_header_value
from maildesk.inbound.parse import ParsedMail, UnparseableMail, parse_mail


def crlf(text: str) -> bytes:
    """Mail text (LF in the literal) as UTF-8 bytes with CRLF line ends."""
    return text.replace("\n", "\r\n").encode()


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def b_word(charset: str, text: str, codec: str | None = None) -> str:
    """One RFC 2047 B-encoded word."""
    data = text.encode(codec or charset)
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


@dataclass(frozen=True)
class Expect:
    subject: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    body_has: tuple[str, ...] = ()
    body_lacks: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()
    no_defects: tuple[str, ...] = ()


def check(parsed: ParsedMail, expect: Expect) -> None:
    if expect.subject is not None:
        assert parsed.subject == expect.subject
    if expect.from_address is not None:
        assert parsed.from_address == expect.from_address
    if expect.from_name is not None:
        assert parsed.from_name == expect.from_name
    for text in expect.body_has:
        assert text in parsed.body_text
    for text in expect.body_lacks:
        assert text not in parsed.body_text
    for defect in expect.defects:
        assert defect in parsed.defects
    for defect in expect.no_defects:
        assert defect not in parsed.defects


# --- readable mail that used to be quarantined --------------------------------------------

PLAIN_HEAD = "From: Pep Roca <pep@forn-roca.cat>\nTo: suport@telecom.cat\nSubject: Sense línia\n"

QUARANTINED = [
    pytest.param(
        b"\r\n\r\n" + crlf(PLAIN_HEAD + "\nNo tenim línia des d'ahir.\n"),
        Expect(
            subject="Sense línia",
            from_address="pep@forn-roca.cat",
            body_has=("No tenim línia des d'ahir.",),
            defects=("body:leading-whitespace",),
        ),
        id="leading-blank-lines",
    ),
    pytest.param(
        b"   \t\r\n  " + crlf(PLAIN_HEAD + "\nNo tenim línia.\n"),
        Expect(from_address="pep@forn-roca.cat", defects=("body:leading-whitespace",)),
        id="leading-whitespace-line-and-indented-first-header",
    ),
    pytest.param(
        b"\xef\xbb\xbf" + crlf(PLAIN_HEAD + "\nNo tenim línia.\n"),
        Expect(
            subject="Sense línia",
            from_address="pep@forn-roca.cat",
            defects=("body:bom",),
            no_defects=("body:leading-whitespace",),
        ),
        id="utf8-bom",
    ),
    pytest.param(
        b"\xef\xbb\xbf\r\n" + crlf(PLAIN_HEAD + "\nNo tenim línia.\n"),
        Expect(from_address="pep@forn-roca.cat", defects=("body:bom", "body:leading-whitespace")),
        id="bom-then-blank-line",
    ),
    pytest.param(
        crlf("From  : Pep <pep@forn-roca.cat>\nSubject : Sense línia\nTo: a@b.cat\n\nHola\n"),
        Expect(
            subject="Sense línia",
            from_address="pep@forn-roca.cat",
            from_name="Pep",
            body_has=("Hola",),
            body_lacks=("Subject",),
            defects=("header:obs-syntax",),
        ),
        id="obsolete-space-before-colon",
    ),
    pytest.param(
        crlf(
            "Subject: Factura\nX-Mailer: Fakturo 1.0\nthis line has no colon\n"
            "From: Marta <marta@botiga.es>\nDate: Mon, 30 Nov 2026 09:00:00 +0100\n\n"
            "La factura está duplicada.\n"
        ),
        Expect(
            subject="Factura",
            from_address="marta@botiga.es",
            body_has=("La factura está duplicada.",),
            body_lacks=("this line has no colon", "From:"),
            defects=("header:malformed-line",),
        ),
        id="malformed-line-before-from",
    ),
    pytest.param(
        crlf(
            "Received: from mx by mx\n[192.0.2.1] garbage\nFrom: ana@bar.es\n"
            "Ünïcode-Name: x\nSubject: Datáfono\n\nNo cobra.\n"
        ),
        Expect(
            subject="Datáfono",
            from_address="ana@bar.es",
            body_has=("No cobra.",),
            body_lacks=("garbage", "Ünïcode"),
            defects=("header:malformed-line",),
        ),
        id="two-malformed-lines",
    ),
    pytest.param(
        crlf("From: ana@bar.es\nSubject: Sin separador\nHola, no va el router.\nGracias\n"),
        Expect(
            subject="Sin separador",
            from_address="ana@bar.es",
            body_has=("Hola, no va el router.", "Gracias"),
            no_defects=("header:malformed-line",),
        ),
        id="missing-blank-line-starts-the-body",
    ),
    pytest.param(
        crlf("From ana@bar.es Mon Nov 30 09:00:00 2026\nFrom  : ana@bar.es\nSubject: x\n\nHola\n"),
        Expect(from_address="ana@bar.es", defects=("header:obs-syntax",)),
        id="mbox-envelope-then-obsolete-from",
    ),
]


@pytest.mark.parametrize(("raw", "expect"), QUARANTINED)
def test_readable_mail_is_not_quarantined(raw: bytes, expect: Expect) -> None:
    check(parse_mail(raw), expect)


def test_whitespace_and_bom_only_is_still_empty() -> None:
    for raw in (b"\xef\xbb\xbf", b"\xef\xbb\xbf \r\n\r\n"):
        with pytest.raises(UnparseableMail) as caught:
            parse_mail(raw)
        assert caught.value.reason == "empty"


def test_raw_size_and_hash_are_of_the_bytes_received() -> None:
    raw = b"\xef\xbb\xbf\r\n" + crlf(PLAIN_HEAD + "\nHola\n")

    parsed = parse_mail(raw)

    assert parsed.raw_size == len(raw)
    assert parsed.headers[0] == ("From", "Pep Roca <pep@forn-roca.cat>")


# --- From with a malformed display name but a valid <address> ------------------------------

FROM_CASES = [
    pytest.param(b"=?utf-8?Q?Jos=C3=A9_P=C3=A9rez?=@tienda <Jose@X.es>", "José Pérez@tienda"),
    pytest.param(b'"Jos\xe9 P\xe9rez <jose@x.es>', "José Pérez"),
    pytest.param(b'"=?iso-8859-1?Q?Jos=E9?= <jose@x.es>', "José"),
    pytest.param(b"Pep@Bar <jose@x.es>", "Pep@Bar"),
    pytest.param(b"Jos\xe9 (P\xe9rez <jose@x.es>", "José (Pérez"),
    pytest.param(b'=?utf-8?B?Sm9zw6k=?= "P\xc3\xa9rez <jose@x.es>', "José Pérez"),
]


@pytest.mark.parametrize(("header", "name"), FROM_CASES)
def test_malformed_display_name_keeps_the_angle_address(header: bytes, name: str) -> None:
    parsed = parse_mail(b"From: " + header + b"\r\nSubject: x\r\n\r\nHola")

    assert parsed.from_address == "jose@x.es"
    assert parsed.from_name == name
    assert "header:from:malformed-display-name" in parsed.defects


def test_display_name_containing_an_address_does_not_replace_the_real_one() -> None:
    parsed = parse_mail(b'From: "Evil <evil@x.es>" <real@y.es>\r\nSubject: x\r\n\r\nHola')

    assert parsed.from_address == "real@y.es"
    assert parsed.from_name == "Evil <evil@x.es>"


def test_encoded_word_in_quoted_display_name_is_decoded_on_the_strict_path() -> None:
    word = b_word("gb2312", "你好")
    raw = f'From: "{word}" (tienda) <jose@x.es>\r\nSubject: x\r\n\r\nHola'.encode()

    parsed = parse_mail(raw)

    assert (parsed.from_address, parsed.from_name) == ("jose@x.es", "你好")


# --- charsets and encoded words -------------------------------------------------------------

SUBJECTS = [
    pytest.param(
        b"=?iso-8859-1?Q?Fr\xc3\xb6sche?=", "Frösche", "encoded-word-8bit", id="utf8-8bit"
    ),
    pytest.param(b"=?iso-8859-1?Q?Fr\xf6sche?=", "Frösche", None, id="latin1-8bit-in-word"),
    pytest.param(b"=?utf-8?Q?Fr\xc3\xb6sche_gr=C3=BCn?=", "Frösche grün", None, id="utf8-mixed"),
    pytest.param(
        b_word("gb2312", "喆堃网络", "gbk").encode(), "喆堃网络", None, id="gbk-labelled-gb2312"
    ),
    pytest.param(b_word("gbk", "网络断了").encode(), "网络断了", None, id="gbk"),
    pytest.param(b_word("gb18030", "网络𠀀断了").encode(), "网络𠀀断了", None, id="gb18030"),
    pytest.param(b_word("GB18030", "网络").encode(), "网络", None, id="gb18030-upper"),
    pytest.param(
        b_word("iso-8859-8-i", "שלום עולם", "iso-8859-8").encode(), "שלום עולם", None, id="he-i"
    ),
    pytest.param(b_word("iso-8859-6-i", "مرحبا", "iso-8859-6").encode(), "مرحبا", None, id="ar-i"),
    pytest.param(
        b_word("ks_c_5601-1987", "똠 시스템", "cp949").encode(), "똠 시스템", None, id="ks_c"
    ),
    pytest.param(b_word("windows-1251", "Привет").encode(), "Привет", None, id="windows-1251"),
    pytest.param(b_word("windows-874", "สวัสดี", "cp874").encode(), "สวัสดี", None, id="thai"),
    pytest.param(b_word("koi8-r", "Привет").encode(), "Привет", None, id="koi8-r"),
    pytest.param(b_word("shift_jis", "ネット①", "cp932").encode(), "ネット①", None, id="sjis"),
    pytest.param(b_word("big5", "網路", "big5").encode(), "網路", None, id="big5"),
    pytest.param(
        b_word("utf-8*es", "Línea", "utf-8").encode(), "Línea", None, id="rfc2231-language"
    ),
    pytest.param(b"=?utf-8?Q?L=C3=ADnea ca=C3=ADda?=", "Línea caída", None, id="q-with-space"),
    pytest.param(b"=?utf-8?B?TMOtbmVh IGNhw61kYQ==?=", "Línea caída", None, id="b-folded"),
]


@pytest.mark.parametrize(("encoded", "subject", "defect"), SUBJECTS)
def test_encoded_subjects(encoded: bytes, subject: str, defect: str | None) -> None:
    parsed = parse_mail(b"From: a@b.es\r\nSubject: " + encoded + b"\r\n\r\nx")

    assert parsed.subject == subject
    if defect:
        assert f"header:subject:{defect}" in parsed.defects


HEBREW = "שלום, האינטרנט לא עובד מאתמול. תודה רבה."
CHINESE = "你好，我们的网络从昨天开始就断了，请尽快派技术人员来处理。谢谢！喆"
RUSSIAN = "Здравствуйте, интернет не работает со вчерашнего дня. Спасибо."

BODIES = [
    pytest.param("gb2312", CHINESE.encode("gbk"), CHINESE, None, id="gbk-as-gb2312"),
    pytest.param("iso-8859-8-i", HEBREW.encode("iso-8859-8"), HEBREW, None, id="hebrew-i"),
    pytest.param("windows-1255", HEBREW.encode("cp1255"), HEBREW, None, id="windows-1255"),
    pytest.param("ks_c_5601-1987", "똠 오류".encode("cp949"), "똠 오류", None, id="cp949"),
    pytest.param(
        "x-foo",
        CHINESE.encode("gb18030"),
        CHINESE,
        ("charset-unknown:x-foo", "charset-guessed:gb18030"),
        id="unknown-label-detected",
    ),
    pytest.param(
        None, RUSSIAN.encode("iso-8859-5"), RUSSIAN, ("charset-missing",), id="missing-label"
    ),
    pytest.param(
        "utf-8",
        RUSSIAN.encode("cp1251"),
        RUSSIAN,
        ("charset-mislabelled:utf-8",),
        id="lying-label-detected",
    ),
    pytest.param(
        "x-foo",
        "La línea no va, ni el datáfono.".encode("cp1252"),
        "La línea no va, ni el datáfono.",
        ("charset-unknown:x-foo",),
        id="unknown-label-western",
    ),
    pytest.param(
        "unicode-escape",
        b"caf\\u00e9",
        "caf\\u00e9",
        ("charset-unknown:unicode-escape",),
        id="refused-codec",
    ),
]


@pytest.mark.parametrize(("charset", "data", "text", "defects"), BODIES)
def test_body_charsets(
    charset: str | None, data: bytes, text: str, defects: tuple[str, ...] | None
) -> None:
    content_type = "text/plain" + (f'; charset="{charset}"' if charset else "")
    raw = f"From: a@b.es\r\nSubject: x\r\nContent-Type: {content_type}\r\n\r\n".encode() + data

    parsed = parse_mail(raw)

    assert parsed.body_text == text
    for defect in defects or ():
        assert defect in parsed.defects


def test_utf7_lone_surrogates_are_replaced() -> None:
    decoded = decode_bytes(b"caf+2AA-", "utf-7")

    assert decoded.text == "caf\ufffd"


def test_undecodable_gap_next_to_a_word_is_guessed_not_left_as_surrogates() -> None:
    decoded = decode_header_value("Aver\udceda =?utf-8?Q?l=C3=ADnea?=")

    assert decoded.text == "Avería línea"
    assert "8bit-not-utf8" in decoded.defects


def test_binascii_is_the_q_decoder() -> None:  # guards the 8-bit-in-word assumption
    assert binascii.a2b_qp(b"Fr\xf6sche_x=41", header=True) == b"Fr\xf6sche xA"
