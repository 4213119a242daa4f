//! Returns ingest refuses, and how it says so.

use crate::helpers::{number, options, returns_and_lake, run};
use unionstat_ingest::report::Outcome;

#[test]
fn an_unknown_header_names_it_and_the_closest_known_one() {
    let (dir, lake) = returns_and_lake();
    let file = dir.path().join("350802新罗区_帮扶资金发放_2017.csv");
    std::fs::write(&file, "统计年度,发放批次,发放日期,所属镇街,项目,发放金额（元）,受助人次\n2017,B1,2017-01-05,东城,送温暖,1000,2\n").expect("write");
    let report = run(&[file], &options(lake.path()));
    let f = &report.files[0];
    assert_eq!(f.outcome, Outcome::Rejected);
    let message = f.message.as_deref().unwrap_or("");
    assert!(
        message.contains("发放金额（元）") && message.contains("金额（元）"),
        "{message}"
    );
    assert_eq!(report.exit_code(), 2);
}

#[test]
fn gbk_with_tabs_and_a_bom_file_both_read() {
    let (dir, lake) = returns_and_lake();
    let text = "统计年度\t发放批次\t发放日期\t所属镇街\t项目\t金额（元）\t受助人次\n2017\tB1\t2017年1月5日\t东城街道\t送温暖\t1.5万\t30\n";
    let gbk = encoding_rs::GBK.encode(text).0.into_owned();
    let a = dir.path().join("350802_帮扶资金发放_2017.csv");
    std::fs::write(&a, gbk).expect("write");
    let b = dir.path().join("350803_帮扶资金发放_2016.csv");
    let bom = format!(
        "\u{feff}{}",
        text.replace('\t', ",")
            .replace("2017", "2016")
            .replace("东城街道", "凤城")
    );
    std::fs::write(&b, bom).expect("write");
    let report = run(&[a, b], &options(lake.path()));
    assert!(
        report.files.iter().all(|f| f.outcome == Outcome::Loaded),
        "{}",
        report.summary()
    );
    assert_eq!(
        number(
            lake.path(),
            "SELECT SUM(CAST(amount AS DOUBLE)) FROM aid_disbursements"
        ),
        30_000.0
    );
    assert_eq!(
        number(
            lake.path(),
            "SELECT COUNT(*) FROM aid_disbursements WHERE town_code IN ('350802001', '350803001')"
        ),
        2.0
    );
}

#[test]
fn a_dry_run_writes_nothing() {
    let (dir, lake) = returns_and_lake();
    let file = dir.path().join("350802_帮扶资金发放_2017.csv");
    std::fs::write(&file, "统计年度,发放批次,发放日期,所属镇街,项目,金额（元）,受助人次\n2017,B1,2017-01-05,东城,送温暖,不详,2\n").expect("write");
    let mut opts = options(lake.path());
    opts.dry_run = true;
    let report = run(&[file], &opts);
    assert_eq!(
        report.files[0].outcome,
        Outcome::Rejected,
        "1 bad row of 1 passes the threshold"
    );
    assert_eq!(report.files[0].errors[0].rule.name(), "text_in_number");
    assert_eq!(std::fs::read_dir(lake.path()).expect("lake").count(), 0);
}

#[test]
fn a_header_mapped_in_the_configuration_loads() {
    let (dir, lake) = returns_and_lake();
    let file = dir.path().join("350802新罗区_帮扶资金发放_2017.csv");
    std::fs::write(&file, "统计年度,发放批次,发放日期,所属镇街,项目,慰问金总额,受助人次\n2017,B1,2017-01-05,东城,送温暖,1000,2\n").expect("write");
    let mut opts = options(lake.path());
    opts.header_mapping
        .insert("慰问金总额".into(), "amount".into());
    let report = run(&[file], &opts);
    assert_eq!(
        report.files[0].outcome,
        Outcome::Loaded,
        "{}",
        report.summary()
    );
    assert_eq!(
        number(
            lake.path(),
            "SELECT SUM(CAST(amount AS DOUBLE)) FROM aid_disbursements"
        ),
        1000.0
    );
}

#[test]
fn a_csv_row_with_more_cells_than_headers_is_quarantined_not_shifted() {
    let (dir, lake) = returns_and_lake();
    let file = dir.path().join("350802新罗区_帮扶资金发放_2017.csv");
    // Ten good rows of 500 yuan, then one whose amount has an unquoted thousands comma: read as
    // it stands, its amount would be 1 and its count 0.
    let mut text = String::from("统计年度,发放批次,发放日期,所属镇街,项目,金额（元）,受助人次\n");
    for batch in 1..=10 {
        text.push_str(&format!("2017,B{batch},2017-01-05,东城,送温暖,500,2\n"));
    }
    text.push_str("2017,B11,2017-02-05,东城,送温暖,1,000,3\n");
    std::fs::write(&file, text).expect("write");
    let report = run(&[file], &options(lake.path()));
    assert_eq!(
        report.files[0].outcome,
        Outcome::Partial,
        "{}",
        report.summary()
    );
    assert_eq!(
        number(
            lake.path(),
            "SELECT SUM(CAST(amount AS DOUBLE)) FROM aid_disbursements"
        ),
        5000.0
    );
    assert_eq!(
        number(
            lake.path(),
            "SELECT COUNT(*) FROM quarantine WHERE rule = 'extra_cells' AND code = 'E117' AND source_row = 12"
        ),
        1.0
    );
}

/// A file rejected before its content hash was needed must not hold up the files after it. The
/// rejected file is large, so that its hash is still being computed when it is turned away.
#[test]
fn a_rejected_file_in_a_folder_does_not_stop_the_returns_after_it() {
    let (dir, lake) = returns_and_lake();
    // Neither UTF-8 nor GBK text; its name sorts before the returns'.
    let binary: Vec<u8> = (0..32u32 << 20).map(|i| (i % 251) as u8 | 0x80).collect();
    std::fs::write(dir.path().join("350802_scan.csv"), binary).expect("write");
    for (county, town) in [("350802新罗区", "东城"), ("350803永定区", "凤城")] {
        std::fs::write(
            dir.path().join(format!("{county}_帮扶资金发放_2017.csv")),
            format!(
                "统计年度,发放批次,发放日期,所属镇街,项目,金额（元）,受助人次\n2017,B1,2017-01-05,{town},送温暖,500,2\n"
            ),
        )
        .expect("write");
    }
    let report = run(&[dir.path().to_path_buf()], &options(lake.path()));
    let outcomes: Vec<Outcome> = report.files.iter().map(|f| f.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Rejected, Outcome::Loaded, Outcome::Loaded],
        "{}",
        report.summary()
    );
    assert_eq!(
        number(
            lake.path(),
            "SELECT SUM(CAST(amount AS DOUBLE)) FROM aid_disbursements"
        ),
        1000.0
    );
}

const HEADER: &str = "统计年度,发放批次,发放日期,所属镇街,项目,金额（元）,受助人次\n";

#[test]
fn a_workbook_that_unpacks_to_gigabytes_is_refused_before_it_is_unpacked() {
    use std::io::Write as _;
    let (dir, lake) = returns_and_lake();
    let file = dir.path().join("350802_帮扶资金发放_2017.xlsx");
    // A zip bomb: about half a megabyte on disk, 520 MiB of sheet XML unpacked.
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&file).expect("create"));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/worksheets/sheet1.xml", deflated)
        .expect("entry");
    let block = vec![b' '; 1 << 20];
    for _ in 0..520 {
        zip.write_all(&block).expect("write");
    }
    zip.finish().expect("zip");
    assert!(std::fs::metadata(&file).expect("size").len() < 4 << 20);
    let report = run(&[file], &options(lake.path()));
    let f = &report.files[0];
    assert_eq!(f.outcome, Outcome::Rejected);
    let message = f.message.as_deref().unwrap_or("");
    assert!(message.contains("unpacks to 520 MiB"), "{message}");
    assert_eq!(report.exit_code(), 2);
}

#[test]
fn a_line_of_twenty_megabytes_is_refused_and_a_huge_cell_is_kept_as_an_excerpt() {
    let (dir, lake) = returns_and_lake();
    let long_line = dir.path().join("350802_帮扶资金发放_2017.csv");
    let mut text = HEADER.to_string();
    text.push_str(&"9".repeat(20 << 20));
    text.push('\n');
    std::fs::write(&long_line, &text).expect("write");
    // A 2 MiB amount in an otherwise good return: its row is quarantined, with a bounded excerpt.
    let huge_cell = dir.path().join("350803_帮扶资金发放_2016.csv");
    let cell = "壹".repeat(700_000);
    let mut text = format!("{HEADER}2016,B0,2016-01-05,凤城,送温暖,{cell},2\n");
    for batch in 1..=20 {
        text.push_str(&format!("2016,B{batch},2016-02-05,凤城,送温暖,1000,3\n"));
    }
    std::fs::write(&huge_cell, text).expect("write");
    let report = run(&[long_line, huge_cell], &options(lake.path()));
    let long = &report.files[0];
    assert_eq!(long.outcome, Outcome::Rejected, "{}", report.summary());
    let message = long.message.as_deref().unwrap_or("");
    assert!(message.contains("longer than 16 MiB"), "{message}");
    assert!(message.len() < 1000, "the message does not quote the line");
    let huge = &report.files[1];
    assert_eq!(huge.rows_loaded, 20, "{}", report.summary());
    assert_eq!(huge.rows_quarantined, 1, "{}", report.summary());
    let stored = number(
        lake.path(),
        "SELECT MAX(length(value)) + MAX(length(raw)) FROM quarantine",
    );
    assert!(stored < 3_000.0, "quarantine keeps {stored} characters");
}

#[test]
fn a_symbolic_link_among_the_returns_is_refused_without_quoting_its_target() {
    let (dir, lake) = returns_and_lake();
    let outside = tempfile::tempdir().expect("tmp");
    let secret = outside.path().join("secret.csv");
    std::fs::write(&secret, "a secret first line\n").expect("write");
    let link = dir.path().join("350802_帮扶资金发放_2017.csv");
    std::os::unix::fs::symlink(&secret, &link).expect("symlink");
    let report = run(&[dir.path().to_path_buf()], &options(lake.path()));
    let f = &report.files[0];
    assert_eq!(f.outcome, Outcome::Rejected);
    let message = f.message.as_deref().unwrap_or("");
    assert!(message.contains("symbolic link"), "{message}");
    assert!(!message.contains("secret first line"), "{message}");
}

#[test]
fn a_gbk_return_with_a_few_bad_bytes_quarantines_only_their_rows() {
    let (dir, lake) = returns_and_lake();
    let file = dir.path().join("350802_帮扶资金发放_2017.csv");
    let mut bytes = encoding_rs::GBK.encode(HEADER).0.into_owned();
    for batch in 0..30 {
        let row = format!("2017,B{batch},2017-02-05,东城,送温暖,1000,3\n");
        let mut encoded = encoding_rs::GBK.encode(&row).0.into_owned();
        if batch % 10 == 3 {
            // A byte that starts no GBK character, inside the programme's name.
            let at = encoded.len() - 8;
            encoded.insert(at, 0xFF);
        }
        bytes.extend(encoded);
    }
    std::fs::write(&file, bytes).expect("write");
    let report = run(&[file], &options(lake.path()));
    let f = &report.files[0];
    assert_eq!(f.outcome, Outcome::Partial, "{}", report.summary());
    assert_eq!((f.rows_loaded, f.rows_quarantined), (27, 3));
    assert_eq!(
        number(
            lake.path(),
            "SELECT COUNT(*) FROM quarantine WHERE rule = 'bad_bytes' AND code = 'E118'"
        ),
        3.0
    );
}
