"""Drives a whole self-check session against Shelfmark's SIP2 server with the PyPI `sip2` client
(1.1, its low-level `Sip2.sip2.Sip2` class over plain TCP), and validates every reply with
pysip2's strict decoder (0.1.0).

argv[1]: a JSON object with host, port, login, password, institution, card, pin, and the
barcodes named below. Prints `REPLY<TAB>step<TAB>hex` for each reply as the client received it
and `REFUSED<TAB>why` for each of pysip2's complaints. The Rust test asserts on the replies; this
script judges only their form.
"""
import json
import logging
import sys

import pysip2
from Sip2.sip2 import Sip2

logging.disable(logging.CRITICAL)
p = json.loads(sys.argv[1])

s = Sip2()
s.log = logging.getLogger("sip2")
s.hostName = p["host"]
s.hostPort = p["port"]
s.tlsEnable = False
s.socketTimeout = 10
s.hostEncoding = "utf-8"
s.institutionId = p["institution"]
s.scLocation = p["location"]
s.patron = p["card"]
s.patronpwd = p["pin"]
s.connect()

replies = []
refused = []


def step(name, request, parse=None):
    raw = s.get_response(request)
    try:
        pysip2.decode_message(raw.encode("utf-8"), encoding="utf-8")
    except Exception as exc:  # any complaint of pysip2's is a failure of ours
        refused.append(f"{name}: {type(exc).__name__}: {exc}: {raw!r}")
    parsed = None
    if parse is not None:
        # The client's own parser must read it too (it raises on what it cannot).
        parsed = {k: v for k, v in parse(raw).get("variable", {}).items()}
    replies.append({"name": name, "raw": raw, "client": parsed})


step("login", s.sip_login_request(p["login"], p["password"]), s.sip_login_response)
step("sc_status", s.sip_sc_status_request(), s.sip_sc_status_response)
step("patron_status", s.sip_patron_status_request(), s.sip_patron_status_response)
step("checkout", s.sip_checkout_request(p["lend"]), s.sip_checkout_response)
step("checkout_second", s.sip_checkout_request(p["lend2"]), s.sip_checkout_response)
step("checkout_refused", s.sip_checkout_request(p["reference"]), s.sip_checkout_response)
step("patron_information_charged", s.sip_patron_information_request("charged", "1", "5"), s.sip_patron_information_response)
step("patron_information_charged_page2", s.sip_patron_information_request("charged", "2", "2"), s.sip_patron_information_response)
step("renew", s.sip_renew_request(p["renew"]), s.sip_renew_response)
step("renew_all", s.sip_renew_all_request(), s.sip_renew_all_response)
step("item_information", s.sip_item_information_request(p["lend"]), s.sip_item_information_response)
step("item_status_update", s.sip_item_status_update_request(p["lend2"], "2 discs"), s.sip_item_status_update_response)
step("hold", s.sip_hold_request("+", holdType=2, itemIdentifier=p["held"], pickupLocation=p["location"]), s.sip_hold_response)
step("fee_paid", s.sip_fee_paid_request(1, 0, p["fee"], currencyType="USD"), s.sip_fee_paid_response)
step("resend", s.sip_sc_resend_request())
# Another patron's card for the hold trap, then the check-ins a sorter makes.
s.patron = p["other_card"]
s.patronpwd = ""
step("checkin_trapped", s.sip_checkin_request(p["trap"]), s.sip_checkin_response)
step("checkin_reshelve", s.sip_checkin_request(p["lend2"]), s.sip_checkin_response)
s.patron = p["card"]
s.patronpwd = "wrong-pin"
step("patron_status_wrong_pin", s.sip_patron_status_request(), s.sip_patron_status_response)
s.patronpwd = p["pin"]
step("end_session", s.sip_end_patron_session_request(), s.sip_end_patron_session_response)
s.patron = p["block_card"]
step("block_patron", s.sip_block_patron_request("Card retained"), s.sip_patron_status_response)
s.disconnect()

# Tab-separated lines, so the Rust side needs no JSON reader: REPLY <name> <hex>, REFUSED <why>.
for r in replies:
    print("REPLY", r["name"], r["raw"].encode("utf-8").hex(), sep="\t")
for why in refused:
    print("REFUSED", why.replace("\t", " ").replace("\n", " "), sep="\t")
