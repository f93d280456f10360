#!/usr/bin/env python3
"""Generate the labelled PII fixture: customer feedback in English, Chinese,
Persian and Gujarati with personal data embedded.

    pip install faker phonenumbers
    python3 scripts/gen_corpus.py > fixtures/labelled.jsonl

Output: one JSON object per line,
    {"lang": "zh", "text": "...", "spans": [{"start": 12, "end": 23, "kind": "phone"}]}
Offsets are UTF-8 BYTE offsets into `text` (end exclusive), the same as
the Rust API's `Finding::start/end`. Kinds are `EntityKind::as_str()` names.

Only values a careful human would call that kind are labelled: phone numbers
are kept only if python-phonenumbers (libphonenumber) says they are valid,
checksummed identifiers are generated valid. Distractors that are NOT
labelled are mixed in on purpose: order and tracking numbers, dates, times,
prices, versions, Luhn-invalid card-like numbers, plain URLs.

Deterministic: the same seed gives the same file.
"""

import base64
import json
import random
import string
import sys

import phonenumbers
from faker import Faker

SEED = 20240601
rng = random.Random(SEED)
Faker.seed(SEED)
FAKERS = {loc: Faker(loc) for loc in ["en_US", "en_GB", "de_DE", "en_IN", "zh_CN", "fa_IR", "gu_IN"]}
for f in FAKERS.values():
    f.seed_instance(SEED)

# ------------------------------------------------------------------ digits

SCRIPTS = {
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "arabic": "٠١٢٣٤٥٦٧٨٩",
    "devanagari": "०१२३४५६७८९",
    "gujarati": "૦૧૨૩૪૫૬૭૮૯",
    "fullwidth": "０１２３４５６７８９",
}


def to_script(s, script):
    if script is None:
        return s
    digits = SCRIPTS[script]
    out = "".join(digits[int(c)] if c.isdigit() and c.isascii() else c for c in s)
    if script == "fullwidth":
        out = out.replace("+", "＋").replace("-", "－").replace(" ", "\u3000")
    return out


# ------------------------------------------------------------------ checksums


def luhn_digit(partial):
    total = 0
    for i, c in enumerate(reversed(partial)):
        v = int(c)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def luhn_ok(s):
    return luhn_digit(s[:-1]) == s[-1]


def ir_id():
    while True:
        body = "".join(rng.choice(string.digits) for _ in range(9))
        if rng.random() < 0.5:
            body = "0" + body[1:]
        if len(set(body)) == 1:
            continue
        r = sum(int(d) * w for d, w in zip(body, range(10, 1, -1))) % 11
        return body + str(r if r < 2 else 11 - r)


VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_ok(s):
    c = 0
    for i, d in enumerate(reversed(s)):
        c = VERHOEFF_D[c][VERHOEFF_P[i % 8][int(d)]]
    return c == 0


def aadhaar():
    while True:
        a = FAKERS["en_IN"].aadhaar_id()
        if verhoeff_ok(a) and a[0] not in "01":
            return a


def cn_id():
    return FAKERS["zh_CN"].ssn()


def pan():
    letters = string.ascii_uppercase
    return (
        "".join(rng.choice(letters) for _ in range(3))
        + rng.choice("PCHFATBLJG")
        + rng.choice(letters)
        + "".join(rng.choice(string.digits) for _ in range(4))
        + rng.choice(letters)
    )


def nino():
    first = "ABCEGHJKLMNOPRSTWXYZ"
    second = "ABCEGHJKLMNPRSTWXYZ"
    while True:
        p = rng.choice(first) + rng.choice(second)
        if p not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            break
    d = "".join(rng.choice(string.digits) for _ in range(6))
    s = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{p} {d[:2]} {d[2:4]} {d[4:]} {s}"
    return p + d + s


def ssn():
    return FAKERS["en_US"].ssn()


def card():
    n = FAKERS["en_US"].credit_card_number()
    style = rng.random()
    if style < 0.4 and len(n) == 16:
        return " ".join(n[i:i + 4] for i in range(0, 16, 4))
    if style < 0.55 and len(n) == 16:
        return "-".join(n[i:i + 4] for i in range(0, 16, 4))
    return n


def iban(loc):
    code = FAKERS[loc].iban()
    if rng.random() < 0.5:
        return " ".join(code[i:i + 4] for i in range(0, len(code), 4))
    return code


def ipv4():
    return FAKERS["en_US"].ipv4_public() if rng.random() < 0.7 else FAKERS["en_US"].ipv4_private()


def ipv6():
    return FAKERS["en_US"].ipv6()


def rand(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"


def b64url(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def secret():
    kind = rng.randrange(9)
    if kind == 0:
        return "AKIA" + rand(string.ascii_uppercase + string.digits, 16)
    if kind == 1:
        return "ghp_" + rand(ALNUM, 36)
    if kind == 2:
        return "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)
    if kind == 3:
        return f"xoxb-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{rand(ALNUM, 24)}"
    if kind == 4:
        return rng.choice(["sk_live_", "rk_live_"]) + rand(ALNUM, 24)
    if kind == 5:
        return "AIza" + rand(B64URL, 35)
    if kind == 6:
        return "sk-proj-" + rand(ALNUM, 40) + rand(string.digits, 4)
    if kind == 7:
        header = b64url({"alg": "HS256", "typ": "JWT"})
        body = b64url({"sub": rand(string.digits, 8), "name": FAKERS["en_US"].first_name()})
        return f"{header}.{body}.{rand(B64URL, 43)}"
    lines = "\n".join(rand(ALNUM + "+/", 64) for _ in range(3))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----"


def cred_url():
    f = FAKERS["en_US"]
    host = f.domain_name()
    style = rng.randrange(5)
    if style == 0:
        return f"https://{f.user_name()}:{rand(ALNUM, 10)}@{host}/dashboard"
    param = ["token", "access_token", "api_key", "sig", "reset_token"][style - 1] if style < 5 else "token"
    return f"https://{host}/{rng.choice(['reset', 'login', 'share', 'download'])}?{param}={rand(ALNUM, 24)}"


REGION = {"en_US": "US", "en_GB": "GB", "de_DE": "DE", "en_IN": "IN", "zh_CN": "CN", "fa_IR": "IR", "gu_IN": "IN"}


def phone(loc):
    region = REGION[loc]
    while True:
        if loc == "zh_CN":
            n = FAKERS[loc].phone_number()
            style = rng.randrange(5)
            p = [n, f"{n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]}-{n[3:7]}-{n[7:]}", f"+86 {n}", f"+86 {n[:3]} {n[3:7]} {n[7:]}"][style]
        else:
            p = FAKERS[loc].phone_number().split("x")[0].strip()
        try:
            parsed = phonenumbers.parse(p, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return p


# ------------------------------------------------------------------ templates
# "{}" is where the value goes. Clean sentences carry no personal data but
# may carry distractors ({order}, {date}, {amount}, {version}, {fakecard}, {plainurl}).

CLEAN = {
    "en": [
        "The app keeps crashing when I open the payments page.",
        "I can't log in since this morning, it says my session expired.",
        "My order {order} has not arrived and tracking shows nothing.",
        "I was charged {amount} twice on {date}, please refund one.",
        "Version {version} broke the export button.",
        "Great support today, thank you!",
        "I received a strange SMS claiming to be from you asking me to verify my account.",
        "Your status page says everything is fine but the site is down for me.",
        "Delivery was late again, third time this month.",
        "The invoice {order} has the wrong address.",
        "Why does the checkout say my card was declined? Reference {order}.",
        "See {plainurl} - the help article is out of date.",
        "The card number on my receipt was 4111 1111 1111 {fakecard}? That looks wrong.",
        "I waited 45 minutes on hold at 10:30 and nobody answered.",
    ],
    "zh": [
        "应用一打开支付页面就闪退。",
        "从今天早上开始我就无法登录了。",
        "我的订单号 {order} 一直没有发货。",
        "{date} 被重复扣款 {amount} 元，请退款。",
        "升级到 {version} 以后导出功能坏了。",
        "客服态度很好，谢谢！",
        "我收到一条自称是你们的短信，要求我验证账户，是诈骗吗？",
        "网站打不开，但状态页面显示一切正常。",
        "快递又晚了，这个月第三次了。",
        "请看 {plainurl} 上的说明。",
    ],
    "fa": [
        "برنامه هنگام باز کردن صفحه پرداخت بسته می‌شود.",
        "از صبح نمی‌توانم وارد حسابم شوم.",
        "سفارش {order} هنوز نرسیده است.",
        "در تاریخ {date} مبلغ {amount} دو بار از حسابم کم شد.",
        "بعد از نسخه {version} دکمه خروجی کار نمی‌کند.",
        "پشتیبانی امروز عالی بود، ممنون!",
        "یک پیامک عجیب به اسم شما دریافت کردم که رمزم را می‌خواست.",
        "سایت برای من باز نمی‌شود.",
        "ارسال دوباره دیر شد.",
    ],
    "gu": [
        "પેમેન્ટ પેજ ખોલતાં જ એપ બંધ થઈ જાય છે.",
        "આજ સવારથી હું લોગિન કરી શકતો નથી.",
        "મારો ઓર્ડર {order} હજુ સુધી આવ્યો નથી.",
        "{date} ના રોજ મારા ખાતામાંથી {amount} રૂપિયા બે વાર કપાયા.",
        "વર્ઝન {version} પછી એક્સપોર્ટ બટન કામ કરતું નથી.",
        "આજે સપોર્ટ ખૂબ સરસ હતો, આભાર!",
        "મને તમારા નામે એક વિચિત્ર SMS મળ્યો જેમાં મારો પાસવર્ડ માંગ્યો હતો.",
        "વેબસાઇટ મારા માટે ખુલતી નથી.",
    ],
}

# (kind, generator, templates) per language.
PII = {
    "en": [
        ("email", lambda: FAKERS["en_US"].email(), ["Please reply to {} instead.", "My email is {}.", "Contact me at {} about the refund."]),
        ("phone", lambda: phone("en_US"), ["Call me at {} after 5pm.", "My phone number is {}.", "You can reach me on {}."]),
        ("phone", lambda: phone("en_GB"), ["Ring me on {} please.", "My mobile: {}"]),
        ("phone", lambda: phone("de_DE"), ["Telefon: {}", "Please call my office {}."]),
        ("phone", lambda: phone("en_IN"), ["My number is {}, call anytime."]),
        ("card", card, ["My card {} was charged twice.", "The payment with card {} failed.", "Refund to {} please."]),
        ("ssn", ssn, ["They asked for my SSN {} on the phone, is that you?", "SSN: {}"]),
        ("nino", nino, ["My National Insurance number is {}.", "NI number {} for the payroll issue."]),
        ("iban", lambda: iban(rng.choice(["de_DE", "en_GB"])), ["Please refund to IBAN {}.", "My account: {}"]),
        ("ip", ipv4, ["The login came from {}, which is not me.", "Blocked from IP {} again."]),
        ("ip", ipv6, ["My IPv6 is {} if that helps."]),
        ("url", cred_url, ["The reset link {} did not work.", "I clicked {} and got an error."]),
        ("secret", secret, ["I accidentally pasted my key {} in the chat, please delete.", "Your SDK logged {} in plain text."]),
        ("aadhaar", aadhaar, ["My Aadhaar is {}.", "Aadhaar {} is linked to the account."]),
        ("pan", pan, ["PAN {} for the invoice.", "My PAN card number is {}."]),
    ],
    "zh": [
        ("email", lambda: FAKERS["zh_CN"].email(), ["我的邮箱是{}，请回复。", "请发邮件到 {} 谢谢"]),
        ("phone", lambda: phone("zh_CN"), ["我的电话是{}，请尽快联系我。", "手机：{}", "请打 {} 找我"]),
        ("cn_id", cn_id, ["身份证号{}，请帮我核实。", "他们要我的身份证 {} 是正常的吗？"]),
        ("card", card, ["我的卡号{}被扣了两次。", "银行卡 {} 支付失败"]),
        ("ip", ipv4, ["登录地址是 {}，不是我本人。"]),
        ("url", cred_url, ["这个链接 {} 打不开。"]),
        ("secret", secret, ["我不小心把密钥 {} 发出来了，请删除。"]),
    ],
    "fa": [
        ("email", lambda: FAKERS["fa_IR"].email(), ["ایمیل من {} است.", "لطفا به {} پاسخ دهید."]),
        ("phone", lambda: phone("fa_IR"), ["شماره تلفن من {} است.", "با این شماره تماس بگیرید: {}", "موبایل: {}"]),
        ("ir_id", ir_id, ["کد ملی من {} است.", "کد ملی: {}"]),
        ("iban", lambda: iban("fa_IR"), ["شماره شبا {} برای بازگشت وجه."]),
        ("card", card, ["کارت {} دو بار شارژ شد.", "شماره کارت من {} است."]),
        ("ip", ipv4, ["ورود از آی‌پی {} بود که من نبودم."]),
    ],
    "gu": [
        ("email", lambda: FAKERS["en_IN"].email(), ["મારો ઇમેઇલ {} છે.", "કૃપા કરીને {} પર જવાબ આપો."]),
        ("phone", lambda: phone("en_IN"), ["મારો ફોન નંબર {} છે.", "મને {} પર ફોન કરો."]),
        ("aadhaar", aadhaar, ["મારો આધાર નંબર {} છે.", "આધાર: {}"]),
        ("pan", pan, ["મારો PAN {} છે."]),
        ("card", card, ["મારું કાર્ડ {} બે વાર ચાર્જ થયું."]),
    ],
}

# Digit scripts people use, per language, with probabilities.
DIGIT_SCRIPTS = {
    "en": [(None, 1.0)],
    "zh": [(None, 0.85), ("fullwidth", 0.15)],
    "fa": [(None, 0.45), ("persian", 0.45), ("arabic", 0.10)],
    "gu": [(None, 0.55), ("gujarati", 0.35), ("devanagari", 0.10)],
}
SCRIPTABLE = {"phone", "card", "cn_id", "ir_id", "aadhaar"}


def pick_script(lang):
    x = rng.random()
    for script, p in DIGIT_SCRIPTS[lang]:
        if x < p:
            return script
        x -= p
    return None


def distractors(lang):
    f = FAKERS["en_US"]
    order = rng.choice([
        "#" + rand(string.digits, rng.choice([6, 8, 10])),
        rand(string.digits, rng.choice([12, 14, 16])),
        "A" + rand(string.digits, 9),
    ])
    fake = rand(string.digits, 4)
    while luhn_ok("411111111111" + fake):
        fake = rand(string.digits, 4)
    return {
        "order": order,
        "date": rng.choice([f.date(pattern="%Y-%m-%d"), f.date(pattern="%d.%m.%Y"), f.date(pattern="%d/%m/%Y")]),
        "amount": rng.choice(["1,299.00", "49.99", "250", "3 500", "12000"]),
        "version": f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "fakecard": fake,
        "plainurl": f.url() + rng.choice(["help", "faq?lang=en", "docs/export"]),
    }


def clean_sentence(lang):
    return rng.choice(CLEAN[lang]).format(**distractors(lang))


def message():
    lang = rng.choices(["en", "zh", "fa", "gu"], weights=[4, 3, 2, 2])[0]
    sep = "" if lang == "zh" else " "
    parts = []  # (text, kind or None)
    for _ in range(rng.randint(1, 3)):
        parts.append((clean_sentence(lang), None))
    if rng.random() < 0.6:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            kind, gen, templates = rng.choice(PII[lang])
            value = gen()
            if kind in SCRIPTABLE:
                value = to_script(value, pick_script(lang))
            template = rng.choice(templates)
            before, after = template.split("{}")
            parts.insert(rng.randint(0, len(parts)), [(before, None), (value, kind), (after, None)])
    text = ""
    spans = []
    for i, part in enumerate(parts):
        pieces = part if isinstance(part, list) else [part]
        if i > 0:
            # Chinese runs sentences together, but never a bare value into
            # the next sentence's digits.
            text += sep if text[-1] in "。！？，" or sep else "。"
        for piece, kind in pieces:
            start = len(text.encode())
            text += piece
            if kind:
                spans.append({"start": start, "end": len(text.encode()), "kind": kind})
    return {"lang": lang, "text": text, "spans": spans}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    for _ in range(n):
        sys.stdout.write(json.dumps(message(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
