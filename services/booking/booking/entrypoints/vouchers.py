"""The voucher of a confirmed booking: what the traveller shows the supplier, as a PDF in English or Chinese.

It says who arranged the service and how to reach them on the trip, the supplier and where, the service in local
time with the zone named, the confirmation number, the travellers and each special requirement (and whether the
supplier acknowledged it). Never a price, the agency's note to the supplier, or anyone's internal note. Planners
fetch it from the API; the client opens it from a signed link on their trip page.
"""
from __future__ import annotations

from datetime import timedelta
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from booking.domain.model import Booking
from booking.domain.suppliers import Supplier
from booking.service_layer import services
from trip_shared.agency import AgencyProfile
from trip_shared.errors import DomainError, NotFoundError
from trip_shared.local_time import span_label
from trip_shared.pdf import LATIN, LATIN_BOLD, a4_document, register_fonts, rich
from trip_shared.web.pages import html_page
from trip_shared.web.signed_links import LinkSigner
from trip_shared.wording import place_label, requirement_label

PURPOSE = "booking-voucher"
LINK_VALID_DAYS = 400  # a trip booked a year ahead keeps its vouchers until it is over
router = APIRouter(include_in_schema=False)

WORDS = {
    "en": {"voucher": "Service voucher", "service": "Service", "when": "When", "where": "Where", "to": "To",
           "supplier": "Provided by", "code": "Confirmation number", "travellers": "Travellers",
           "party": "Party", "party_value": "{adults} adult(s), {children} child(ren)",
           "requirements": "Special requirements", "acknowledged": "confirmed by the supplier",
           "not_acknowledged": "not yet confirmed by the supplier",
           "show": "Please show this voucher to {supplier} on arrival.", "invalid": "This voucher cannot be shown"},
    "zh-Hans": {"voucher": "服务凭证", "service": "服务", "when": "时间", "where": "地点", "to": "目的地",
                "supplier": "服务商", "code": "确认号", "travellers": "旅客", "party": "人数",
                "party_value": "成人 {adults} 位，儿童 {children} 位", "requirements": "特殊需求",
                "acknowledged": "服务商已确认", "not_acknowledged": "服务商尚未确认",
                "show": "抵达时请向{supplier}出示此凭证。", "invalid": "此凭证无法显示"},
}


def voucher_link_maker(signer: LinkSigner, base_url: str):
    def make(tenant_id: str, booking_id: str) -> str:
        token, _ = signer.sign(PURPOSE, tenant_id, booking_id, timedelta(days=LINK_VALID_DAYS))
        return f"{base_url}/vouchers/{token}"

    return make


def voucher_pdf(booking: Booking, supplier: Supplier | None, agency: AgencyProfile | None, language: str) -> bytes:
    if booking.status != "confirmed":
        raise NotFoundError(f"Booking {booking.id} is {booking.status.replace('_', ' ')}: only a confirmed booking "
                            "has a voucher.", code="no-voucher")
    register_fonts()  # before the first Paragraph: its markup resolves the bold face by the font family
    language = language if language in WORDS else "en"
    words, service = WORDS[language], booking.service
    title = ParagraphStyle("title", fontName=LATIN_BOLD, fontSize=18, leading=22, spaceAfter=3 * mm)
    body = ParagraphStyle("body", fontName=LATIN, fontSize=10, leading=13)
    bold = ParagraphStyle("bold", parent=body, fontName=LATIN_BOLD)
    code = ParagraphStyle("code", fontName=LATIN_BOLD, fontSize=16, leading=20)
    story = [Paragraph(rich(words["voucher"]), title)]
    if agency:
        story += [Paragraph(rich(line), body) for line in agency.support_lines(language)]
    story.append(Spacer(1, 4 * mm))
    supplier_lines = [booking.vendor_name] + ([supplier.address] if supplier and supplier.address else []) + \
        [contact.phone for contact in (supplier.contacts if supplier else []) if contact.phone][:1]
    rows = [(words["code"], Paragraph(rich(booking.confirmation_code), code)),
            (words["service"], service.get("title")),
            (words["when"], span_label(service.get("start"), service.get("end"), service.get("timezone"),
                                       service.get("end_timezone"), language)),
            (words["where"], place_label(service.get("place"))),
            (words["to"], place_label(service.get("end_place"))),
            (words["supplier"], "\n".join(supplier_lines)),
            (words["travellers"], ", ".join(booking.traveller_names)),
            (words["party"], words["party_value"].format(adults=booking.party_adults,
                                                         children=booking.party_children))]
    table = Table([[Paragraph(rich(label), bold),
                    value if isinstance(value, Paragraph) else Paragraph(rich(value).replace("\n", "<br/>"), body)]
                   for label, value in rows if value], colWidths=[45 * mm, 133 * mm])
    # The cells' own font (Helvetica unless told) would be added to the PDF unembedded, though unused.
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), LATIN),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    story.append(table)
    if booking.requirements:
        story += [Spacer(1, 4 * mm), Paragraph(rich(words["requirements"]), bold)]
        for need in booking.requirements:
            state = words["acknowledged"] if need.acknowledged_at else words["not_acknowledged"]
            label = requirement_label(need.kind, need.traveller_name, need.text, language)
            story.append(Paragraph(rich(f"• {label} ({state})"), body))
    story += [Spacer(1, 6 * mm), Paragraph(rich(words["show"].format(supplier=booking.vendor_name)), body)]
    return a4_document(story, f"{words['voucher']} {booking.confirmation_code}")


def pdf_response(content: bytes, booking: Booking) -> Response:
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="voucher-{booking.confirmation_code or booking.id}.pdf"'})


@router.get("/vouchers/{token}")
async def client_voucher(token: str, request: Request, lang: str = "en") -> Response:
    try:
        claims = request.app.state.link_signer.verify(token, PURPOSE)
        booking, supplier = await services.voucher_of(request.app.state.runtime.transaction, claims.tenant_id,
                                                      claims.subject_id)
        content = voucher_pdf(booking, supplier, await request.app.state.runtime.agencies.for_tenant(claims.tenant_id),
                              lang)
    except DomainError as error:
        title = f"{WORDS['en']['invalid']} · {WORDS['zh-Hans']['invalid']}"
        return html_page("en", title, f"<h1>{escape(title)}</h1><p>{escape(error.detail)}</p>",
                         status=error.status)
    return pdf_response(content, booking)

