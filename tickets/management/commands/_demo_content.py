"""What the demo's people say: customers of Acme (a SaaS that sells AI tokens) and Globex,
and the support conversations they have. Data only; seed_demo turns it into tickets
through the services. Django skips command modules whose name starts with "_".

A thread is a list of steps, played in order, each some minutes after the previous one:
    ("customer", text)   the customer writes (the first one opens the ticket)
    ("reply", text)      the assigned agent (or the first agent) answers publicly
    ("note", text)       an internal note
    ("assign", who)      "agent" (N1) or "senior" (N2)
    ("status", status)   resolved / closed / open (an agent's reopen)
"""

from dataclasses import dataclass, field

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - documented demo password, local use only


@dataclass(frozen=True)
class DemoCustomer:
    email: str
    name: str
    external_id: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DemoThread:
    customer: str  # email of a DemoCustomer
    inbox: str  # prefix
    subject: str
    steps: tuple
    priority: str = "normal"
    category: str = ""
    type: str = "question"
    tags: tuple = ()
    channel: str = "api"
    metadata: dict = field(default_factory=dict)


def _customer(email, name, external_id="", plan="free", tokens=0, **extra):
    metadata = {"plan": plan, "token_balance": tokens, **extra}
    if external_id:
        metadata["user_id"] = external_id
    return DemoCustomer(email=email, name=name, external_id=external_id, metadata=metadata)


ACME_CUSTOMERS = [
    # The SupportDesk document's own example customer, so its curl works as written.
    _customer("john@acme.com", "John Carter", "user_42", plan="pro", tokens=1200, company="Carter & Co"),
    _customer("maria.lopez@example.com", "María López", "user_1007", plan="business", tokens=48000, seats=12),
    _customer("kenji.sato@example.jp", "Kenji Sato", "user_311", plan="pro", tokens=350),
    _customer("priya.nair@example.in", "Priya Nair", "user_2044", plan="free", tokens=20),
    _customer("lukas.weber@example.de", "Lukas Weber", "user_877", plan="pro", tokens=9100),
    _customer(
        "amelia.brown@example.co.uk", "Amelia Brown", "user_1502", plan="business", tokens=125000, seats=40
    ),
    _customer("omar.haddad@example.com", "Omar Haddad", "user_66", plan="free", tokens=0),
    _customer("sofia.rossi@example.it", "Sofia Rossi", "user_3390", plan="pro", tokens=2750),
    _customer("chen.wei@example.cn", "Chen Wei", "user_4120", plan="team", tokens=15400, seats=5),
    _customer("fatima.diallo@example.sn", "Fatima Diallo", "", plan="free", tokens=45),
    _customer("noah.johnson@example.com", "Noah Johnson", "user_5012", plan="pro", tokens=600),
    _customer("ana.silva@example.com.br", "Ana Silva", "user_77", plan="team", tokens=8800, seats=3),
    _customer("ivan.petrov@example.org", "Ivan Petrov", "user_918", plan="free", tokens=5),
    _customer("grace.kim@example.kr", "Grace Kim", "user_2601", plan="business", tokens=72000, seats=25),
    _customer("tom.muller@example.at", "Tom Müller", "", plan="pro", tokens=1900),
    _customer("zoe.martin@example.fr", "Zoé Martin", "user_4444", plan="pro", tokens=300),
    _customer("david.cohen@example.com", "David Cohen", "user_130", plan="team", tokens=21000, seats=8),
    _customer("lena.andersson@example.se", "Lena Andersson", "user_3011", plan="free", tokens=90),
    _customer("raj.patel@example.com", "Raj Patel", "user_5600", plan="pro", tokens=4100),
    _customer("emma.wilson@example.com", "Emma Wilson", "", plan="free", tokens=0),
]


ACME_THREADS = [
    DemoThread(
        "john@acme.com",
        "INV",
        "Payment failed for order #12345",
        (
            (
                "customer",
                "My card was declined with CARD_DECLINED but my bank says the payment went through.",
            ),
            ("assign", "agent"),
            ("note", "Stripe shows two attempts; the second one succeeded. Order is paid."),
            (
                "reply",
                "Thanks John, the second attempt succeeded and order #12345 is paid. "
                "The declined one will disappear from your statement within a few days.",
            ),
            ("customer", "Perfect, thank you!"),
            ("status", "resolved"),
        ),
        priority="high",
        category="billing",
        type="problem",
        tags=("billing", "payment-failed", "vip"),
        metadata={"orderId": "12345", "amount": 99.9},
    ),
    DemoThread(
        "john@acme.com",
        "SUP",
        "Export to PDF cuts off the last page",
        (
            (
                "customer",
                "When I export a long document to PDF the last page is missing. Happens every time.",
            ),
            ("assign", "senior"),
            ("note", "Reproduced with documents over 40 pages; filed as BUG-2291."),
            (
                "reply",
                "We reproduced it: documents longer than 40 pages lose their last page. "
                "A fix is scheduled for next week's release; until then, export in two parts.",
            ),
        ),
        priority="normal",
        category="bug",
        type="problem",
        tags=("bug", "export"),
    ),
    DemoThread(
        "maria.lopez@example.com",
        "INV",
        "Invoice needs our VAT number",
        (
            ("customer", "Could you reissue invoice INV-2026-0412 with our VAT number ES-B12345678?"),
            ("assign", "agent"),
            ("reply", "Done: the corrected invoice is attached to your billing page. Anything else?"),
            ("status", "resolved"),
            ("status", "closed"),
        ),
        category="billing",
        type="task",
        tags=("billing", "invoice"),
    ),
    DemoThread(
        "kenji.sato@example.jp",
        "SUP",
        "Cannot log in after password reset",
        (
            ("customer", "I reset my password but the new one is rejected. I tried three times."),
            ("assign", "agent"),
            (
                "reply",
                "Sorry about that! Your account was locked after several attempts. "
                "I unlocked it; please try again with the new password.",
            ),
            ("customer", "It works now, thanks."),
            ("status", "resolved"),
        ),
        priority="high",
        category="account",
        type="problem",
        tags=("login",),
    ),
    DemoThread(
        "priya.nair@example.in",
        "INV",
        "Tokens not credited after top-up",
        (
            ("customer", "I bought 5,000 tokens an hour ago and my balance still shows 20."),
            ("assign", "agent"),
            ("note", "Webhook from the payment provider failed (timeout). Credited manually."),
            (
                "reply",
                "The payment went through but our system missed the confirmation. "
                "I've credited the 5,000 tokens by hand; your balance should show 5,020.",
            ),
            ("customer", "I see them now. Will this happen again?"),
            ("reply", "We've added a retry so it shouldn't. Thanks for your patience!"),
            ("status", "resolved"),
        ),
        priority="urgent",
        category="billing",
        type="incident",
        tags=("tokens", "billing"),
    ),
    DemoThread(
        "lukas.weber@example.de",
        "SUP",
        "API returns 429 too early",
        (
            (
                "customer",
                "Our integration gets HTTP 429 after about 50 requests a minute; "
                "the docs say the limit is 120.",
            ),
            ("assign", "senior"),
            ("note", "His key shares the limit with a second key from the same account. Explain."),
            (
                "reply",
                "The limit applies per account, and a second key of yours is also sending traffic. "
                "Spreading both over the minute, or upgrading to Business, removes the 429s.",
            ),
        ),
        priority="normal",
        category="technical",
        type="question",
        tags=("api", "rate-limit"),
    ),
    DemoThread(
        "amelia.brown@example.co.uk",
        "SUP",
        "SSO login loops back to the sign-in page",
        (
            (
                "customer",
                "Since this morning none of our 40 users can sign in with SSO: "
                "Okta sends them back to the sign-in page.",
            ),
            ("assign", "senior"),
            ("note", "Their IdP certificate rotated last night; metadata in our config is stale."),
            (
                "reply",
                "Your identity provider rotated its signing certificate overnight. "
                "Could you upload the new metadata XML in Settings → SSO?",
            ),
            ("customer", "Uploaded. Everyone can sign in again."),
            ("status", "resolved"),
            ("status", "closed"),
        ),
        priority="critical",
        category="account",
        type="incident",
        tags=("sso", "vip", "login"),
        channel="email",
    ),
    DemoThread(
        "omar.haddad@example.com",
        "INV",
        "Refund request: charged twice",
        (
            ("customer", "I was charged twice for the Pro plan this month. Please refund one of them."),
            ("assign", "agent"),
            (
                "reply",
                "You're right, there were two charges. I've refunded one; "
                "it takes 5–10 business days to show up.",
            ),
            ("status", "resolved"),
        ),
        priority="high",
        category="billing",
        type="problem",
        tags=("refund", "billing"),
    ),
    DemoThread(
        "sofia.rossi@example.it",
        "SUP",
        "Feature request: dark mode",
        (
            ("customer", "I'd love a dark mode for the editor, I work late at night."),
            (
                "reply",
                "Thanks Sofia! I've added your vote to the dark mode request; "
                "we'll let you know when it ships.",
            ),
            ("status", "closed"),
        ),
        priority="low",
        category="feature_request",
        type="task",
        tags=("feature-request",),
    ),
    DemoThread(
        "chen.wei@example.cn",
        "SUP",
        "Add two seats to our team",
        (
            ("customer", "We hired two people. How do we add seats without changing the billing date?"),
            ("assign", "agent"),
            (
                "reply",
                "In Settings → Team, click “Add seats”: the new seats are prorated "
                "to your current billing date.",
            ),
            ("customer", "Found it, thanks."),
            ("status", "resolved"),
        ),
        category="account",
        type="question",
        tags=("seats",),
    ),
    DemoThread(
        "fatima.diallo@example.sn",
        "SUP",
        "The mobile app crashes on start",
        (
            ("customer", "The Android app closes right after the splash screen. Android 14, Pixel 6."),
            ("assign", "agent"),
            ("reply", "Thanks for the details. Could you tell us the app version (Settings → About)?"),
            ("customer", "Version 3.8.1"),
            ("note", "Known crash in 3.8.1 on Android 14; 3.8.2 is in review."),
            ("assign", "senior"),
        ),
        priority="high",
        category="bug",
        type="problem",
        tags=("mobile", "bug", "android"),
    ),
    DemoThread(
        "noah.johnson@example.com",
        "INV",
        "Switch from monthly to yearly billing",
        (
            ("customer", "Can I switch to yearly billing and keep my remaining tokens?"),
            ("assign", "agent"),
            (
                "reply",
                "Yes: switching keeps your balance, and the unused part of this month "
                "is credited towards the yearly price.",
            ),
        ),
        category="billing",
        type="question",
        tags=("billing", "plan-change"),
    ),
    DemoThread(
        "ana.silva@example.com.br",
        "SUP",
        "Webhook signature does not verify",
        (
            ("customer", "Our webhook endpoint rejects your calls: the HMAC signature never matches."),
            ("assign", "senior"),
            (
                "reply",
                "The signature is computed over the raw request body. If your framework parses "
                "the JSON first, the bytes differ. Could you verify against the raw body?",
            ),
            ("customer", "That was it: we were hashing the parsed JSON. Works now."),
            ("status", "resolved"),
        ),
        category="technical",
        type="question",
        tags=("api", "webhooks"),
    ),
    DemoThread(
        "ivan.petrov@example.org",
        "INV",
        "Why was I charged after cancelling?",
        (
            ("customer", "I cancelled last week but got charged today. This is not OK."),
            ("assign", "agent"),
            (
                "note",
                "Cancellation was scheduled for the end of the period; charge is for the previous "
                "period's overage. Offer goodwill refund.",
            ),
            (
                "reply",
                "I'm sorry for the confusion. Today's charge was for token overage last month. "
                "As a goodwill gesture I've refunded it.",
            ),
            ("customer", "Thanks, appreciated."),
            ("status", "resolved"),
            ("status", "closed"),
        ),
        priority="high",
        category="billing",
        type="problem",
        tags=("refund", "cancellation"),
    ),
    DemoThread(
        "grace.kim@example.kr",
        "SUP",
        "Data processing agreement for our legal team",
        (
            ("customer", "Our legal team needs a signed DPA before renewing. Where can we get one?"),
            ("assign", "senior"),
            (
                "reply",
                "I've sent our standard DPA to your email for signature. "
                "If your legal team needs changes, reply here with a redlined copy.",
            ),
        ),
        category="account",
        type="task",
        tags=("legal", "vip"),
        channel="email",
    ),
    DemoThread(
        "tom.muller@example.at",
        "SUP",
        "Slow responses from the editor",
        (
            ("customer", "Since yesterday every suggestion takes 20 seconds instead of 2."),
            ("assign", "agent"),
            ("note", "Status page shows degraded performance in eu-central since 14:00."),
            (
                "reply",
                "We're seeing degraded performance in our EU region and the team is on it. "
                "I'll update you as soon as it's resolved.",
            ),
            ("reply", "The fix is deployed; responses should be back to normal. Can you confirm?"),
        ),
        priority="urgent",
        category="technical",
        type="incident",
        tags=("performance", "outage"),
    ),
    DemoThread(
        "zoe.martin@example.fr",
        "SUP",
        "How do I delete my account?",
        (
            ("customer", "I'd like to delete my account and all my documents."),
            ("assign", "agent"),
            (
                "reply",
                "Sorry to see you go. Settings → Account → Delete account removes everything "
                "within 30 days. Would you like me to do it for you instead?",
            ),
            ("customer", "I did it myself, thanks."),
            ("status", "closed"),
        ),
        category="account",
        type="task",
        tags=("gdpr",),
    ),
    DemoThread(
        "david.cohen@example.com",
        "INV",
        "Purchase order for the annual renewal",
        (
            ("customer", "Our finance team needs to pay the renewal with PO 4500-7781. Is that possible?"),
            ("assign", "agent"),
            ("note", "Team plans can pay by invoice; set up manual invoicing in Stripe."),
            (
                "reply",
                "Yes. I've switched your account to pay-by-invoice; the renewal invoice will "
                "reference PO 4500-7781.",
            ),
            ("status", "resolved"),
        ),
        category="billing",
        type="task",
        tags=("invoice", "renewal"),
    ),
    DemoThread(
        "lena.andersson@example.se",
        "SUP",
        "Import from Google Docs loses images",
        (("customer", "When I import a Google Doc, the images are gone. Text is fine."),),
        category="bug",
        type="problem",
        tags=("import", "bug"),
    ),
    DemoThread(
        "raj.patel@example.com",
        "SUP",
        "Two-factor codes are always rejected",
        (
            ("customer", "My authenticator codes are always invalid, I'm locked out."),
            ("assign", "agent"),
            (
                "reply",
                "This usually happens when the phone's clock drifts. Could you enable automatic "
                "time on your phone and try again?",
            ),
            ("customer", "Automatic time was off. It works now!"),
            ("status", "resolved"),
        ),
        priority="high",
        category="account",
        type="problem",
        tags=("login", "2fa"),
    ),
    DemoThread(
        "emma.wilson@example.com",
        "SUP",
        "Is there an education discount?",
        (("customer", "I'm a teacher. Do you have discounts for schools?"),),
        priority="low",
        category="billing",
        type="question",
        tags=("pricing",),
        channel="email",
    ),
    DemoThread(
        "maria.lopez@example.com",
        "SUP",
        "Audit log export for compliance",
        (
            ("customer", "We need an export of the audit log for the last quarter for our ISO audit."),
            ("assign", "senior"),
            ("note", "Audit log export is Business-only; she's on Business. Generate it from the console."),
            (
                "reply",
                "The CSV export of last quarter's audit log is ready in Settings → Security → Audit log.",
            ),
            ("customer", "Got it. Could it also include IP addresses?"),
        ),
        category="technical",
        type="task",
        tags=("compliance", "vip"),
    ),
    DemoThread(
        "kenji.sato@example.jp",
        "INV",
        "Receipts in Japanese yen",
        (
            ("customer", "Can my receipts show amounts in JPY instead of USD?"),
            ("assign", "agent"),
            (
                "reply",
                "Receipts follow your billing currency. I can switch it to JPY from your next "
                "billing cycle; shall I?",
            ),
        ),
        priority="low",
        category="billing",
        type="question",
        tags=("invoice",),
    ),
    DemoThread(
        "amelia.brown@example.co.uk",
        "INV",
        "Token usage report per team member",
        (
            ("customer", "Is there a way to see how many tokens each of our 40 users consumed?"),
            ("assign", "agent"),
            ("reply", "Yes: Settings → Usage, then “Group by member”. You can export it as CSV."),
            ("status", "resolved"),
        ),
        category="feature_request",
        type="question",
        tags=("tokens", "reporting"),
    ),
    DemoThread(
        "chen.wei@example.cn",
        "SUP",
        "API key leaked in a public repo",
        (
            ("customer", "One of our developers pushed an API key to GitHub. Please help!"),
            ("assign", "senior"),
            ("note", "Revoked key ending in 7f3a; no usage after the push."),
            (
                "reply",
                "I've revoked the key; it was not used after it was published. "
                "Please create a new key in Settings → API keys.",
            ),
            ("status", "resolved"),
            ("status", "closed"),
        ),
        priority="critical",
        category="technical",
        type="incident",
        tags=("security", "api"),
    ),
    DemoThread(
        "sofia.rossi@example.it",
        "INV",
        "Promo code not applied",
        (
            ("customer", "I used the code SPRING25 at checkout but paid full price."),
            ("assign", "agent"),
            (
                "reply",
                "The code expired the day before your purchase, but I've applied the 25% "
                "as a credit on your next invoice.",
            ),
            ("customer", "Lovely, thank you!"),
            ("status", "resolved"),
        ),
        category="billing",
        type="problem",
        tags=("promo", "billing"),
    ),
    DemoThread(
        "noah.johnson@example.com",
        "SUP",
        "Keyboard shortcuts stopped working",
        (("customer", "Ctrl+K doesn't open the command menu anymore (Firefox on Windows)."),),
        category="bug",
        type="problem",
        tags=("bug", "editor"),
    ),
    DemoThread(
        "ana.silva@example.com.br",
        "INV",
        "Invoice address change",
        (
            ("customer", "Our company moved. Please update the address on future invoices."),
            ("assign", "agent"),
            ("reply", "Updated. Future invoices will show the new address."),
            ("status", "closed"),
        ),
        priority="low",
        category="billing",
        type="task",
        tags=("invoice",),
    ),
]

# Common questions asked by more customers: the opening message only, or a first answer.
ACME_REPEATS = [
    ("SUP", "Cannot log in", "I can't log in since this morning: “invalid credentials”.", ("login",), "high"),
    ("INV", "Refund please", "I didn't mean to renew. Can I get a refund?", ("refund", "billing"), "normal"),
    (
        "SUP",
        "How do I change my email address?",
        "I changed jobs and want to use my new address.",
        ("account",),
        "low",
    ),
    (
        "INV",
        "Tokens disappeared",
        "My balance dropped by 2,000 tokens overnight and I didn't use the app.",
        ("tokens",),
        "high",
    ),
    (
        "SUP",
        "Document won't save",
        "The editor says “saving…” forever and nothing is saved.",
        ("bug", "editor"),
        "urgent",
    ),
    (
        "SUP",
        "Integration with Slack",
        "Is there a Slack integration to share documents?",
        ("feature-request", "integrations"),
        "low",
    ),
    (
        "INV",
        "Card expired, how to update?",
        "My card expired; where do I put the new one?",
        ("billing",),
        "normal",
    ),
    (
        "SUP",
        "API timeout on large documents",
        "POST /v1/generate times out for inputs over 20k characters.",
        ("api",),
        "high",
    ),
]
REPEAT_FIRST_REPLIES = {
    "Cannot log in": "Could you try resetting your password from the sign-in page? "
    "If that doesn't help, tell me which browser you use.",
    "Refund please": "Renewals can be refunded within 14 days; I'm checking your account now.",
    "How do I change my email address?": "Settings → Account → Email. We'll send a confirmation link "
    "to the new address.",
    "Tokens disappeared": "I'm looking at your usage log; I'll get back to you shortly.",
    "Document won't save": "Thanks for reporting. Does it happen with every document or only one?",
    "Integration with Slack": "Not yet, but it's on our roadmap: I've added your vote.",
    "Card expired, how to update?": "Settings → Billing → Payment method → Replace card.",
    "API timeout on large documents": "Large inputs should use the async endpoint; I'll send you an example.",
}
REPEAT_FOLLOW_UPS = {
    "Cannot log in": "The reset worked, thank you!",
    "Refund please": "Thanks, I'll wait for the refund.",
    "How do I change my email address?": "Done, thanks.",
    "Tokens disappeared": "It was a shared API key on our side. Sorry for the noise!",
    "Document won't save": "Only the one with many images. Smaller ones save fine.",
    "Integration with Slack": "Great, please keep me posted.",
    "Card expired, how to update?": "Updated, thanks!",
    "API timeout on large documents": "The async endpoint works, thanks.",
}

SAVED_REPLIES = [
    (
        "Refund issued",
        "Hi {{ customer_name }},\n\nI've issued the refund; it takes 5–10 business days to appear on "
        "your statement.\n\nBest,\nAcme Support",
    ),
    (
        "Password reset steps",
        "Hi {{ customer_name }},\n\nPlease use “Forgot password?” on the sign-in page. The link in the "
        "email is valid for one hour. If it doesn't arrive, check your spam folder.",
    ),
    (
        "Need more details",
        "Hi {{ customer_name }},\n\nCould you tell us your browser and operating system, and the steps "
        "that lead to the problem? A screenshot helps a lot.",
    ),
    (
        "Tokens credited",
        "Hi {{ customer_name }},\n\nThe tokens are now credited to your account. Thanks for your patience!",
    ),
    (
        "Closing: no reply",
        "Hi {{ customer_name }},\n\nWe haven't heard back, so we're closing this ticket. Reply any time "
        "to reopen it.",
    ),
]


GLOBEX_CUSTOMERS = [
    _customer("hank.scorpio@globex.example", "Hank Scorpio", "gx-1", plan="business", tokens=999999),
    _customer("frank.grimes@example.com", "Frank Grimes", "gx-2", plan="free", tokens=10),
    _customer("lisa.s@example.com", "Lisa Simpson", "gx-3", plan="pro", tokens=4200),
]

GLOBEX_THREADS = [
    DemoThread(
        "hank.scorpio@globex.example",
        "GLX",
        "Need 500 more seats by Friday",
        (
            ("customer", "We're expanding. 500 more seats, by Friday. Can you do it?"),
            ("assign", "agent"),
            ("reply", "Absolutely. I've raised your seat limit to 1,000; the invoice follows."),
            ("status", "resolved"),
        ),
        priority="high",
        category="account",
        type="task",
        tags=("seats", "vip"),
    ),
    DemoThread(
        "frank.grimes@example.com",
        "GLX",
        "Nothing works",
        (
            ("customer", "I click the button and nothing happens. Nothing ever works for me."),
            ("assign", "agent"),
            ("reply", "Sorry to hear that! Which button, and on which page?"),
        ),
        category="bug",
        type="problem",
        tags=("bug",),
    ),
    DemoThread(
        "lisa.s@example.com",
        "GLX",
        "Accessibility of the charts",
        (("customer", "The charts have no text alternative for screen readers. Is that planned?"),),
        priority="normal",
        category="feature_request",
        type="question",
        tags=("accessibility",),
    ),
    DemoThread(
        "lisa.s@example.com",
        "GLX",
        "Student discount",
        (
            ("customer", "Is there a student discount?"),
            ("assign", "agent"),
            ("reply", "Yes, 50% with a school email address. I've applied it to your account."),
            ("status", "closed"),
        ),
        priority="low",
        category="billing",
        tags=("pricing",),
    ),
]
