"""Prints, one per line as `REQ <hex>`, the requests the PyPI `sip2` client (1.1) builds, so the Rust
suite can check that Shelfmark reads what this real client sends. No network: the request
builders only format text. The patron's name has a non-ASCII letter so the client's code-point
checksum is exercised."""
import logging
import sys

from Sip2.sip2 import Sip2

logging.disable(logging.CRITICAL)
s = Sip2()
# Its logger is only made by connect(); the request builders log skipped fields.
s.log = logging.getLogger("sip2")
s.institutionId = "MAIN"
s.scLocation = "Sorter 1"
s.patron = "21234000123456"
s.patronpwd = "pin1234"
s.terminalPassword = ""
requests = [
    s.sip_login_request("kiosk-main-1", "s3cret"),
    s.sip_sc_status_request(),
    s.sip_patron_status_request(),
    s.sip_patron_information_request("charged"),
    s.sip_checkout_request("31234000987654"),
    s.sip_checkin_request("31234000987654"),
    s.sip_renew_request("31234000987654"),
    s.sip_renew_all_request(),
    s.sip_item_information_request("31234000987654"),
    s.sip_item_status_update_request("31234000987654", "sensitized"),
    s.sip_hold_request("+", pickupLocation="EAST", holdType=2, titleIdentifier="Sörensen"),
    s.sip_fee_paid_request(4, 0, "2.50", feeIdentifier="fine-42"),
    s.sip_end_patron_session_request(),
    s.sip_block_patron_request("Card left in the machine"),
    s.sip_sc_resend_request(),
]
for r in requests:
    # Prefixed: the client prints "Sip2 object unset" to stdout when it is collected.
    print("REQ", r.encode(s.hostEncoding).hex())
sys.stdout.flush()
