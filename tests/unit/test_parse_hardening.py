"""parse_mail on odd real-world mail (issue #14): readable mail is kept, text is not garbled,
encoded blocks become attachments, HTML of any size becomes text, every fallback is a defect."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    pytest.param(  # raw bytes in the word, one of them 0xA0 (a no-break space in cp1252)
        b"=?gb18030?Q?" + "网络仩".encode("gb18030") + b"?=", "网络仩", None, id="gb18030-8bit"
    ),
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


# --- MIME structure and encoded blocks never reach the text -------------------------------

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 2


def uuencode(data: bytes) -> str:
    lines = [binascii.b2a_uu(data[i : i + 45]).decode("ascii") for i in range(0, len(data), 45)]
    return "".join(lines) + "`\n"


def crlf_bytes(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


UNPARSED_MULTIPART = f"""--XYZ
Content-Type: text/plain; charset=utf-8

Hola, adjunto la factura duplicada.
--XYZ
Content-Type: application/pdf; name="factura.pdf"
Content-Transfer-Encoding: base64

{b64(PDF)}--XYZ--
"""


@dataclass(frozen=True)
class BlockCase:
    head: str
    body: bytes
    text: str
    attachments: tuple[tuple[str, str, int], ...]
    defects: tuple[str, ...]


BLOCK_CASES = [
    pytest.param(
        BlockCase(
            "Content-Type: multipart/mixed\n",
            crlf(UNPARSED_MULTIPART),
            "Hola, adjunto la factura duplicada.",
            (("factura.pdf", "application/pdf", len(PDF)),),
            ("mime:unparsed-multipart",),
        ),
        id="multipart-without-boundary",
    ),
    pytest.param(
        BlockCase(
            "Content-Type: multipart/mixed; boundary=WRONG\n",
            crlf("This is a multi-part message in MIME format.\n" + UNPARSED_MULTIPART),
            "Hola, adjunto la factura duplicada.",
            (("factura.pdf", "application/pdf", len(PDF)),),
            ("mime:unparsed-multipart",),
        ),
        id="multipart-with-wrong-boundary",
    ),
    pytest.param(
        BlockCase(
            "Content-Type: text/plain; charset=utf-8\n",
            crlf("Os reenvío lo que nos llegó.\n\n" + UNPARSED_MULTIPART),
            "Os reenvío lo que nos llegó.\n\nHola, adjunto la factura duplicada.",
            (("factura.pdf", "application/pdf", len(PDF)),),
            ("mime:unparsed-multipart",),
        ),
        id="structure-inside-text-plain",
    ),
    pytest.param(
        BlockCase(
            "",
            crlf(
                "Adjunto la factura.\n\nbegin 644 factura.pdf\n" + uuencode(PDF) + "end\n\nGràcies"
            ),
            "Adjunto la factura.\n\nGràcies",
            (("factura.pdf", "application/pdf", len(PDF)),),
            ("body:uuencode-block",),
        ),
        id="uuencode",
    ),
    pytest.param(
        BlockCase(
            "",
            crlf(
                "Adjunto:\nbegin-base64 644 C:\\docs\\contrato.pdf\n" + b64(PDF) + "====\nGracias"
            ),
            "Adjunto:\n\nGracias",
            (("contrato.pdf", "application/pdf", len(PDF)),),
            ("body:uuencode-block",),
        ),
        id="uuencode-base64",
    ),
    pytest.param(
        BlockCase(
            "",
            crlf_bytes(
                b"Foto del router:\n=ybegin line=128 size=1540 name=router.jpg\n"
                + b"\xff\xd8\xff\xe0*+,-./0\xc1\xd3\n\xe0\xe1\xe2\xe3=J\n"
                + b"=yend size=1540 crc32=abcdef01\nGracias\n"
            ),
            "Foto del router:\n\nGracias",
            (("router.jpg", "image/jpeg", 1540),),
            ("body:yenc-block",),
        ),
        id="yenc",
    ),
    pytest.param(
        BlockCase(
            "",
            crlf_bytes(
                b"Parte 2:\n=ybegin part=2 line=128 size=9000 name=foto.png\n"
                + b"=ypart begin=4001 end=8000\n\xe0\xe1\xe2\n=yend size=4000 part=2\n"
            ),
            "Parte 2:",
            (("foto.png", "image/png", 4000),),
            ("body:yenc-block",),
        ),
        id="yenc-multipart",
    ),
    pytest.param(
        BlockCase(
            "",
            crlf("Os paso la foto:\n\n" + b64(JPEG) + "\nSaludos"),
            "Os paso la foto:\n\nSaludos",
            (("block-1.jpg", "image/jpeg", len(JPEG)),),
            ("body:base64-block",),
        ),
        id="base64-run",
    ),
    pytest.param(
        BlockCase(
            "Content-Type: text/plain; charset=utf-8\n",
            crlf(b64(("La línea no va desde ayer por la tarde. " * 6).encode())),
            ("La línea no va desde ayer por la tarde. " * 6).strip(),
            (),
            ("body:base64-undeclared",),
        ),
        id="base64-text-without-transfer-encoding",
    ),
    pytest.param(
        BlockCase(
            "Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n",
            crlf("begin 644 log.txt\n" + uuencode(b"PPPoE timeout\n" * 10) + "end\n"),
            "",
            (("log.txt", "text/plain", 140),),
            ("body:uuencode-part",),
        ),
        id="uuencoded-text-part",
    ),
]


@pytest.mark.parametrize("case", BLOCK_CASES)
def test_structure_and_encoded_blocks_become_attachments(case: BlockCase) -> None:
    raw = crlf(f"From: a@b.es\nSubject: Factura\n{case.head}\n") + case.body

    parsed = parse_mail(raw)

    assert parsed.body_text == case.text
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == list(
        case.attachments
    )
    for defect in case.defects:
        assert defect in parsed.defects
    for marker in ("--XYZ", "Content-Type", "begin 644", "=ybegin", "=yend", "JVBERi0"):
        assert marker not in parsed.body_text


def test_ordinary_text_with_dashes_and_long_words_is_untouched() -> None:
    text = (
        "-----Original Message-----\nFrom: Soporte\nSubject: Ticket\n\n"
        "begin the test at 644 Main Street\n"
        "Ref: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop0123456789\n"
        "--\nPep"
    )
    parsed = parse_mail(crlf(f"From: a@b.es\nSubject: x\n\n{text}\n"))

    assert parsed.body_text == text
    assert parsed.attachments == ()
    assert parsed.defects == ()


# --- HTML of any size becomes text within budget -----------------------------------------


def html_mail(markup: str) -> bytes:
    head = "From: a@b.es\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    return head.encode() + markup.encode()


ROW = "<tr><td style='font-family:Arial;color:#333'>Concepto {}</td><td>45,00 &euro;</td></tr>\n"

HTML_CASES = [
    pytest.param(
        "<html><body><p>Hola, la factura:</p><table>"
        + "".join(ROW.format(i) for i in range(6500))
        + "</table><p>Gracias</p></body></html>",
        ("Hola, la factura:", "Concepto 6499 45,00 €", "Gracias"),
        ("html:fast-strip",),
        id="571kb-table",
    ),
    pytest.param(
        "<html><body>"
        + "<div><font>" * 400
        + "El router no va"
        + "</font></div>" * 400
        + "</body>",
        ("El router no va",),
        (),
        id="nested-deeper-than-libxml2-allows",
    ),
    pytest.param(
        "<html><body>" + "<div>" * 3000 + "El router no va" + "</div>" * 3000 + "</body>",
        ("El router no va",),
        ("html-unreadable",),
        id="nested-deeper-than-the-recursion-limit",
    ),
    pytest.param(
        "<p>Mirad la foto</p><img src='data:image/png;base64," + "QUJD" * 150_000 + "'><p>Fin</p>",
        ("Mirad la foto", "Fin"),
        (),
        id="large-inline-image",
    ),
    pytest.param(
        "<p>" + "palabra " * 200_000 + "</p><p>final</p>",
        ("palabra palabra",),
        ("html:truncated", "html:fast-strip"),
        id="over-the-size-cap",
    ),
    pytest.param(
        "<p>a " + "< b " * 40_000 + "</p>",
        ("a < b < b",),
        ("html:fast-strip",),
        id="unclosed-angle-brackets",
    ),
]


@pytest.mark.parametrize(("markup", "has", "defects"), HTML_CASES)
def test_html_of_any_size_becomes_text(
    markup: str, has: tuple[str, ...], defects: tuple[str, ...]
) -> None:
    start = time.perf_counter()
    parsed = parse_mail(html_mail(markup))
    elapsed = time.perf_counter() - start

    for text in has:
        assert text in parsed.body_text
    assert "<" not in parsed.body_text.replace("< b", "")
    assert tuple(d for d in parsed.defects if d.startswith("html")) == defects
    assert elapsed < 2.0  # generous for slow CI; about 0.1-0.2 s on a laptop


def test_large_html_keeps_table_rows_on_lines() -> None:
    markup = "<table>" + "".join(ROW.format(i) for i in range(3000)) + "</table>"

    lines = parse_mail(html_mail(markup)).body_text.splitlines()

    assert lines[:2] == ["Concepto 0 45,00 €", "Concepto 1 45,00 €"]


# --- fuzz -------------------------------------------------------------------------------------

SEEDS = [
    crlf(PLAIN_HEAD + "\nNo tenim línia.\n"),
    crlf("From: a@b.es\nSubject: x\nContent-Type: multipart/mixed\n\n") + crlf(UNPARSED_MULTIPART),
    crlf("From: a@b.es\nSubject: x\n\nbegin 644 f.pdf\n" + uuencode(PDF[:200]) + "end\n"),
    html_mail("<html><body><div><p>Hola &amp; adéu</p></div></body></html>"),
    b"\xef\xbb\xbf\r\nFrom  : =?gb2312?B?xOO6ww==?= <a@b.es>\r\nSubject: =?utf-7?Q?+2AA-?=\r\n"
    b"bad line\r\nContent-Type: text/plain; charset=x-foo\r\n\r\n\xc4\xe3\xba\xc3",
]


def _no_lone_surrogates(text: str) -> bool:
    return not any("\ud800" <= c <= "\udfff" for c in text)


def _assert_clean(parsed: ParsedMail) -> None:
    texts = [
        parsed.subject,
        parsed.content_type,
        parsed.from_address,
        parsed.from_name,
        parsed.body_text,
        parsed.clean_text,
        parsed.body_html or "",
        parsed.reply_to or "",
        *parsed.to,
        *parsed.cc,
        *parsed.defects,
        *(part for header in parsed.headers for part in header),
        *(a.filename for a in parsed.attachments),
        *(a.content_type for a in parsed.attachments),
    ]
    for text in texts:
        assert isinstance(text, str)
        assert _no_lone_surrogates(text)


@st.composite
def mutated_mail(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = draw(
            st.one_of(
                st.binary(max_size=8),
                st.sampled_from([b"\r\n", b"\r\n\r\n", b":", b" ", b"=?", b"?=", b"--", b"<"]),
            )
        )
        if action == "insert":
            data[position:position] = chunk
        elif action == "delete":
            del data[position : position + len(chunk) + 1]
        else:
            data[position : position + len(chunk)] = chunk
    return bytes(data)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.one_of(st.binary(max_size=1024), mutated_mail()))
def test_fuzz_parse_raises_only_unparseable_and_gives_clean_text(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw)
    except UnparseableMail:
        return
    _assert_clean(parsed)
    assert parsed.raw_size == len(raw)
