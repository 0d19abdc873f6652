"""Proof files: what they really are (sniffed from the bytes) and a print preflight.

PDFs (pypdf): page count, page size, trim/bleed boxes against the ordered size and the bleed we
need, colour spaces of embedded images. Images (Pillow): pixel size, effective DPI at the ordered
size, proportions, colour mode and transparency. Warnings are for the agent, before sending; only
a file we cannot read at all is refused. Pure functions, no database.
"""

import io
import logging
import warnings
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.conf import settings
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from core.errors import ApplicationError

logger = logging.getLogger(__name__)

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
EXTENSIONS = {PDF: "pdf", PNG: "png", JPEG: "jpg"}
POINTS_PER_MM = 72 / 25.4
# Sizes within half a millimetre are the same size (rounding in design tools).
SIZE_TOLERANCE_MM = 0.5
# Proportions within 1 % print without visible cropping.
ASPECT_TOLERANCE = 0.01
MAX_PAGES_SCANNED = 20
TIMES = "\u00d7"  # the multiplication sign between dimensions


@dataclass(frozen=True)
class PrintSize:
    width_mm: Decimal
    height_mm: Decimal

    def __str__(self) -> str:
        return f"{_mm(self.width_mm)} {TIMES} {_mm(self.height_mm)} mm"


@dataclass
class PreflightReport:
    kind: str  # pdf | image
    content_type: str
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return asdict(self)


def sniff_content_type(data: bytes) -> str | None:
    """PDF, PNG or JPEG by their magic bytes; the file name and declared type are not trusted."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    # The PDF spec allows junk before the header; readers look in the first kilobyte.
    if b"%PDF-" in data[:1024]:
        return PDF
    return None


def check_proof_size(size: int) -> None:
    limit = settings.PRINTSHOP_PROOF_MAX_BYTES
    if size > limit:
        raise ApplicationError(
            f"The file is larger than {limit / (1024 * 1024):g} MB.",
            code="file_too_large",
            status=413,
            fields={"file": ["Too large."]},
        )


def check_proof_file(data: bytes) -> str:
    """The sniffed content type of an acceptable proof file, or an ApplicationError."""
    if not data:
        raise ApplicationError("The file is empty.", code="empty_file", fields={"file": ["Empty."]})
    check_proof_size(len(data))
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ApplicationError(
            "Proofs must be PDF, PNG or JPEG files.",
            code="unsupported_file_type",
            status=415,
            fields={"file": ["Not a PDF, PNG or JPEG file."]},
        )
    return content_type


def run_preflight(
    *, data: bytes, content_type: str, print_size: PrintSize | None
) -> PreflightReport:
    if content_type == PDF:
        return _preflight_pdf(data, print_size)
    return _preflight_image(data, content_type, print_size)


# PDF ---------------------------------------------------------------------------------------------


def _preflight_pdf(data: bytes, print_size: PrintSize | None) -> PreflightReport:
    report = PreflightReport(kind="pdf", content_type=PDF)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _unreadable("The PDF is password-protected.")
        pages = reader.pages
        page_count = len(pages)
        first = pages[0]
        media = _box_mm(first.mediabox)
        has_trim = "/TrimBox" in first
        trim = _box_mm(first.trimbox) if has_trim else None
        bleed_box = _box_mm(first.bleedbox) if "/BleedBox" in first else media
        bleed_margins = _margins(outer=first.bleedbox, inner=first.trimbox) if has_trim else None
        sizes = {tuple(_rounded(_box_mm(page.mediabox))) for page in pages[:MAX_PAGES_SCANNED]}
        colour_spaces = _pdf_image_colour_spaces(pages[:MAX_PAGES_SCANNED])
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise _unreadable("The PDF could not be read.") from exc
    report.details = {
        "pages": page_count,
        "page_mm": _rounded(media),
        "trim_mm": _rounded(trim) if trim else None,
        "bleed_box_mm": _rounded(bleed_box),
        "bleed_mm": round(min(bleed_margins), 1) if bleed_margins else None,
        "image_colour_spaces": sorted(colour_spaces),
    }
    report.facts.append(f"{page_count} page{'s' if page_count != 1 else ''}")
    report.facts.append(f"Page {_size(media)}")
    if len(sizes) > 1:
        report.warnings.append("Pages have different sizes.")
    required = settings.PRINTSHOP_BLEED_MM
    if trim:
        report.facts.append(f"Trim {_size(trim)}")
        bleed = min(bleed_margins)
        if bleed + 0.05 < required:
            report.warnings.append(
                f"Bleed is {_mm(bleed)} mm; the print needs {_mm(required)} mm on every side."
            )
        else:
            report.facts.append(f"Bleed {_mm(bleed)} mm")
        if print_size and not _same_size(trim, print_size):
            report.warnings.append(
                f"The trim size {_size(trim)} is not the ordered size {print_size}."
            )
    elif print_size:
        with_bleed = (
            print_size.width_mm + Decimal(str(2 * required)),
            print_size.height_mm + Decimal(str(2 * required)),
        )
        if _same_size(media, PrintSize(*with_bleed)):
            report.facts.append(f"Page is the ordered size plus {_mm(required)} mm bleed")
        elif _same_size(media, print_size):
            report.warnings.append(
                f"No bleed: the page is exactly the ordered size; it needs {_mm(required)} mm "
                "of bleed on every side."
            )
        else:
            report.warnings.append(
                f"The page {_size(media)} is neither the ordered size {print_size} nor that "
                f"plus {_mm(required)} mm bleed."
            )
    else:
        report.warnings.append("No trim box and no print size given: bleed not checked.")
    if colour_spaces & {"RGB"}:
        report.warnings.append(
            "Contains RGB images: colours shift when printed in CMYK (bright greens and blues "
            "most)."
        )
    if colour_spaces:
        report.facts.append(f"Image colour: {', '.join(sorted(colour_spaces))}")
    return report


def _box_mm(box) -> tuple[float, float]:
    return (float(box.width) / POINTS_PER_MM, float(box.height) / POINTS_PER_MM)


def _margins(*, outer, inner) -> tuple[float, float, float, float]:
    """Left, bottom, right, top distance (mm) from the inner box to the outer one."""
    return (
        (float(inner.left) - float(outer.left)) / POINTS_PER_MM,
        (float(inner.bottom) - float(outer.bottom)) / POINTS_PER_MM,
        (float(outer.right) - float(inner.right)) / POINTS_PER_MM,
        (float(outer.top) - float(inner.top)) / POINTS_PER_MM,
    )


def _pdf_image_colour_spaces(pages) -> set[str]:
    """RGB/CMYK/Gray of the images the pages draw (ICC profiles by their component count)."""
    found: set[str] = set()
    for page in pages:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        xobjects = resources.get("/XObject")
        if xobjects is None:
            continue
        for ref in xobjects.get_object().values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") != "/Image":
                continue
            found.add(_colour_space_name(xobject.get("/ColorSpace")))
    found.discard("")
    return found


def _colour_space_name(space) -> str:
    if space is None:
        return ""
    space = space.get_object() if hasattr(space, "get_object") else space
    if isinstance(space, list) and space:
        family = str(space[0])
        if family == "/ICCBased":
            components = int(space[1].get_object().get("/N", 0))
            return {1: "Gray", 3: "RGB", 4: "CMYK"}.get(components, "")
        if family in ("/Indexed", "/Separation", "/DeviceN"):
            return "Spot" if family != "/Indexed" else _colour_space_name(space[1])
        space = family
    return {
        "/DeviceRGB": "RGB",
        "/CalRGB": "RGB",
        "/DeviceCMYK": "CMYK",
        "/DeviceGray": "Gray",
    }.get(str(space), "")


# Images ------------------------------------------------------------------------------------------


def _preflight_image(
    data: bytes, content_type: str, print_size: PrintSize | None
) -> PreflightReport:
    report = PreflightReport(kind="image", content_type=content_type)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                mode = image.mode
                has_alpha = mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                stored_dpi = image.info.get("dpi")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ApplicationError(
            "The image has too many pixels to process.",
            code="image_too_large",
            fields={"file": ["Too many pixels."]},
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _unreadable("The image could not be read.") from exc
    colour = _image_colour(mode)
    report.details = {
        "width_px": width,
        "height_px": height,
        "mode": mode,
        "colour": colour,
        "stored_dpi": [round(float(v)) for v in stored_dpi] if stored_dpi else None,
        "effective_dpi": None,
    }
    report.facts.append(f"{width} {TIMES} {height} px")
    report.facts.append(f"Colour: {colour} ({mode})")
    if print_size:
        target_w, target_h = float(print_size.width_mm), float(print_size.height_mm)
        if (width >= height) != (target_w >= target_h) and width != height:
            report.warnings.append(
                f"The image is {'landscape' if width > height else 'portrait'} but the ordered "
                f"size {print_size} is not."
            )
            target_w, target_h = target_h, target_w
        dpi = min(width / (target_w / 25.4), height / (target_h / 25.4))
        report.details["effective_dpi"] = round(dpi)
        report.facts.append(f"{round(dpi)} dpi at {print_size}")
        minimum = settings.PRINTSHOP_MIN_DPI
        if round(dpi) < minimum:
            report.warnings.append(
                f"Only {round(dpi)} dpi at the ordered size {print_size}; print needs "
                f"{minimum} dpi ({_pixels_needed(target_w, minimum)} {TIMES} "
                f"{_pixels_needed(target_h, minimum)} px)."
            )
        if abs((width / height) / (target_w / target_h) - 1) > ASPECT_TOLERANCE:
            report.warnings.append(
                f"The proportions differ from {print_size}: it will be cropped or padded."
            )
    else:
        report.warnings.append("No print size given: the effective DPI was not checked.")
    if colour == "RGB":
        report.warnings.append(
            "RGB image: colours shift when printed in CMYK (bright greens and blues most)."
        )
    if has_alpha:
        report.warnings.append("The image has transparency; it prints on white.")
    return report


def _image_colour(mode: str) -> str:
    if mode in ("CMYK",):
        return "CMYK"
    if mode in ("1", "L", "LA", "I", "I;16", "F"):
        return "Gray"
    return "RGB"


def _pixels_needed(length_mm: float, dpi: int) -> int:
    return round(length_mm / 25.4 * dpi)


# Helpers -----------------------------------------------------------------------------------------


def _unreadable(message: str) -> ApplicationError:
    return ApplicationError(message, code="unreadable_file", fields={"file": [message]})


def _same_size(size: tuple[float, float], target: PrintSize) -> bool:
    w, h = float(target.width_mm), float(target.height_mm)
    return any(
        abs(size[0] - a) <= SIZE_TOLERANCE_MM and abs(size[1] - b) <= SIZE_TOLERANCE_MM
        for a, b in ((w, h), (h, w))
    )


def _rounded(size: tuple[float, float]) -> list[float]:
    return [round(size[0], 1), round(size[1], 1)]


def _mm(value) -> str:
    text = f"{float(value):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _size(size: tuple[float, float]) -> str:
    return f"{_mm(size[0])} {TIMES} {_mm(size[1])} mm"
