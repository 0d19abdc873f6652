import io
from decimal import Decimal

import pytest
from PIL import Image

from core.errors import ApplicationError
from printshop.preflight import (
    JPEG,
    PDF,
    PNG,
    PrintSize,
    check_proof_file,
    run_preflight,
    sniff_content_type,
)
from printshop.tests.factories import make_image, make_pdf

A5 = PrintSize(width_mm=Decimal(148), height_mm=Decimal(210))
A6_LANDSCAPE = PrintSize(width_mm=Decimal(148), height_mm=Decimal(105))


def preflight(data: bytes, size: PrintSize | None):
    return run_preflight(data=data, content_type=sniff_content_type(data), print_size=size)


def test_types_are_sniffed_from_bytes_not_names():
    assert sniff_content_type(make_pdf(width_mm=10, height_mm=10)) == PDF
    assert sniff_content_type(make_image(width=2, height=2)) == PNG
    assert sniff_content_type(make_image(width=2, height=2, fmt="JPEG")) == JPEG
    assert sniff_content_type(b"<html><script>alert(1)</script>") is None
    assert sniff_content_type(b"GIF89a....") is None


def test_unsupported_empty_and_oversized_files_are_refused(settings):
    with pytest.raises(ApplicationError) as exc:
        check_proof_file(b"MZ\x90\x00 an executable named proof.pdf")
    assert (exc.value.code, exc.value.status) == ("unsupported_file_type", 415)
    with pytest.raises(ApplicationError) as exc:
        check_proof_file(b"")
    assert exc.value.code == "empty_file"
    settings.PRINTSHOP_PROOF_MAX_BYTES = 100
    with pytest.raises(ApplicationError) as exc:
        check_proof_file(make_pdf(width_mm=10, height_mm=10))
    assert (exc.value.code, exc.value.status) == ("file_too_large", 413)


def test_pdf_with_trim_box_and_enough_bleed_passes():
    report = preflight(make_pdf(width_mm=148, height_mm=210, bleed_mm=3), A5)
    assert report.warnings == []
    assert report.details["page_mm"] == [154.0, 216.0]
    assert report.details["trim_mm"] == [148.0, 210.0]
    assert report.details["bleed_mm"] == 3.0


def test_pdf_with_too_little_bleed_is_flagged():
    report = preflight(make_pdf(width_mm=148, height_mm=210, bleed_mm=1), A5)
    assert report.details["bleed_mm"] == 1.0
    assert any("Bleed is 1 mm" in w for w in report.warnings)


def test_pdf_exactly_the_ordered_size_has_no_bleed():
    report = preflight(make_pdf(width_mm=148, height_mm=210), A5)
    assert report.details["trim_mm"] is None
    assert any(w.startswith("No bleed") for w in report.warnings)


def test_pdf_with_bleed_added_to_the_page_passes_without_trim_box():
    report = preflight(make_pdf(width_mm=154, height_mm=216), A5)
    assert report.warnings == []
    assert "Page is the ordered size plus 3 mm bleed" in report.facts


def test_pdf_of_the_wrong_size_is_flagged():
    report = preflight(make_pdf(width_mm=210, height_mm=297, bleed_mm=3), A5)
    assert any("is not the ordered size" in w for w in report.warnings)


def test_pdf_rgb_images_are_flagged():
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), "green").save(buffer, "PDF", resolution=300)
    report = preflight(buffer.getvalue(), None)
    assert report.details["image_colour_spaces"] == ["RGB"]
    assert any(w.startswith("Contains RGB images") for w in report.warnings)


def test_pdf_cmyk_images_are_not_flagged():
    buffer = io.BytesIO()
    Image.new("CMYK", (300, 200)).save(buffer, "PDF", resolution=300)
    report = preflight(buffer.getvalue(), None)
    assert report.details["image_colour_spaces"] == ["CMYK"]
    assert not any("RGB" in w for w in report.warnings)


def test_broken_pdf_is_refused():
    with pytest.raises(ApplicationError) as exc:
        run_preflight(data=b"%PDF-1.7\n garbage", content_type=PDF, print_size=None)
    assert exc.value.code == "unreadable_file"


@pytest.mark.parametrize(
    ("width", "height", "expected_dpi", "low"),
    [
        (1748, 1240, 300, False),  # A6 landscape at 300 dpi
        (874, 620, 150, True),
        (3496, 2480, 600, False),
    ],
)
def test_image_effective_dpi_at_the_ordered_size(width, height, expected_dpi, low):
    report = preflight(
        make_image(width=width, height=height, mode="CMYK", fmt="JPEG"), A6_LANDSCAPE
    )
    assert report.details["effective_dpi"] == expected_dpi
    assert report.details["colour"] == "CMYK"
    assert any("dpi at the ordered size" in w for w in report.warnings) is low


def test_image_orientation_and_proportion_mismatch_are_flagged():
    report = preflight(make_image(width=1240, height=1748, mode="CMYK", fmt="JPEG"), A6_LANDSCAPE)
    assert any("portrait" in w for w in report.warnings)
    assert report.details["effective_dpi"] == 300  # measured the way it would be printed
    square = preflight(make_image(width=2000, height=2000, mode="CMYK", fmt="JPEG"), A6_LANDSCAPE)
    assert any("proportions differ" in w for w in square.warnings)


def test_image_colour_mode_and_transparency_are_reported():
    rgb = preflight(make_image(width=1748, height=1240), A6_LANDSCAPE)
    assert rgb.details["mode"] == "RGB"
    assert any(w.startswith("RGB image") for w in rgb.warnings)
    rgba = preflight(make_image(width=1748, height=1240, mode="RGBA"), A6_LANDSCAPE)
    assert any("transparency" in w for w in rgba.warnings)
    gray = preflight(make_image(width=1748, height=1240, mode="L"), A6_LANDSCAPE)
    assert gray.details["colour"] == "Gray"
    assert gray.warnings == []


def test_image_without_print_size_says_dpi_was_not_checked():
    report = preflight(make_image(width=100, height=100, mode="L"), None)
    assert report.details["effective_dpi"] is None
    assert report.warnings == ["No print size given: the effective DPI was not checked."]


def test_truncated_image_is_refused():
    data = make_image(width=50, height=50)[:40]
    with pytest.raises(ApplicationError) as exc:
        run_preflight(data=data, content_type=PNG, print_size=None)
    assert exc.value.code == "unreadable_file"
