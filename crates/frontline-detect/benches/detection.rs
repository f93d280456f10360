//! Throughput of counting and detection: per-minute counts through the
//! streaming detector, over many series.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use frontline_detect::{Detector, DetectorConfig, ReporterWindow};

fn bench(c: &mut Criterion) {
    const SERIES: usize = 1000;
    const MINUTES: i64 = 100;
    let mut det = Detector::new(DetectorConfig::default());
    let ids: Vec<_> = (0..SERIES)
        .map(|s| det.series_id(&format!("topic-{s}")))
        .collect();
    // Warm the detector past its learning period.
    for t in 0..1500i64 {
        for (s, id) in ids.iter().enumerate() {
            det.observe_id(*id, t, ((t as usize * 7 + s * 13) % 5) as f64);
        }
    }
    let mut t0 = 1500i64;
    let mut g = c.benchmark_group("detection");
    g.throughput(Throughput::Elements(SERIES as u64 * MINUTES as u64));
    g.bench_function("observe_1000_series_x_100_minutes", |b| {
        b.iter(|| {
            for t in t0..t0 + MINUTES {
                for (s, id) in ids.iter().enumerate() {
                    let count = ((t as usize * 7 + s * 13) % 5) as f64;
                    black_box(det.observe_id(*id, t, count));
                }
            }
            t0 += MINUTES;
        })
    });
    g.finish();
    let mut w = ReporterWindow::new(60);
    let mut g = c.benchmark_group("dedup");
    g.throughput(Throughput::Elements(100_000));
    let mut m = 0i64;
    g.bench_function("admit_100k_reports", |b| {
        b.iter(|| {
            for r in 0..100_000u64 {
                black_box(w.admit(
                    r.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 20_000,
                    m + (r / 2000) as i64,
                ));
            }
            m += 50;
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
