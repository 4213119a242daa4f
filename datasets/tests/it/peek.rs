use unionstat_datasets::calibration::compute;
use unionstat_datasets::generate;
use unionstat_datasets::published::published_indicators;
#[test]
fn peek() {
    let g = generate::clean(1.0, 42);
    for t in &g.tables { eprintln!("{} rows {}", t.spec.name, t.rows.len()); }
    for i in published_indicators() { eprintln!("{:40} {:>14} {:?}", i.key, i.value, compute(&g, &i.key)); }
    let u = g.table("grassroots_unions").unwrap();
    for y in 2013..=2017 {
        let m = u.sum("members", |r| u.year(r)==y); let e = u.sum("employees", |r| u.year(r)==y);
        let mi = u.sum("migrant_members", |r| u.year(r)==y);
        eprintln!("{y}: unions {} members {m} employees {e} rate {:.3} migrant {:.3}", u.count(|r| u.year(r)==y), m/e, mi/m);
    }
    let e = g.table("enterprises").unwrap();
    let org = e.count(|r| e.year(r)==2017 && !matches!(e.get(r,"union_uscc"), unionstat_datasets::table::Value::Null));
    eprintln!("enterprises 2017 {} organised {}", e.count(|r| e.year(r)==2017), org);
}
