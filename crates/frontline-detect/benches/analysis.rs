//! Throughput of message analysis (language + topics + sentiment + IOCs).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use frontline_detect::Analyzer;

const MESSAGES: &[&str] = &[
    "I got an SMS from +44 7700 900123 claiming to be you, asking me to verify my account at hxxp://secure-verify[.]top/login",
    "I can't log in since this morning, it keeps saying my password is wrong and I never asked for a reset",
    "There are three charges on my card I didn't make, all from an online shop abroad. Please block it now!",
    "The app is so slow today, every page takes ten seconds to load and then shows error 503",
    "收到一条自称是你们客服的短信，让我点击链接核实身份，号码是13800138000，是你们发的吗？",
    "我的信用卡昨天晚上被盗刷了两千块，卡一直在我身上，请尽快处理",
    "پیامکی از شماره ۰۹۱۲۳۴۵۶۷۸۹ آمده که حساب شما مسدود می‌شود و باید روی لینک کلیک کنید",
    "سه تراکنش در حسابم هست که من انجام نداده‌ام، لطفا بررسی کنید",
    "9876543210 પરથી મેસેજ આવ્યો કે મારું ખાતું બંધ થશે, લિંક પર ક્લિક કરો",
    "સવારથી હું મારા એકાઉન્ટમાં લોગિન કરી શકતો નથી, પાસવર્ડ ખોટો બતાવે છે",
];

fn bench(c: &mut Criterion) {
    let analyzer = Analyzer::builtin();
    let bytes: usize = MESSAGES.iter().map(|m| m.len()).sum();
    let mut g = c.benchmark_group("analysis");
    g.throughput(Throughput::Elements(MESSAGES.len() as u64));
    g.bench_function("analyze_10_messages", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(analyzer.analyze(black_box(m)));
            }
        })
    });
    g.bench_function("classify_10_messages", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(analyzer.classify(black_box(m)));
            }
        })
    });
    g.finish();
    let mut idx = frontline_detect::ClusterIndex::new(Default::default());
    let mut g = c.benchmark_group("cluster");
    g.throughput(Throughput::Elements(MESSAGES.len() as u64));
    g.bench_function("assign_10_messages", |b| {
        b.iter(|| {
            for m in MESSAGES {
                black_box(idx.assign(black_box(m)));
            }
        })
    });
    g.finish();
    let _ = bytes;
}

criterion_group!(benches, bench);
criterion_main!(benches);
