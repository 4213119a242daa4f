//! The files on disk: byte-identical for a seed, readable in every county's format, and the dirty
//! manifest lists exactly what differs from the clean records.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use unionstat_datasets::reference;
use unionstat_generator::generate::{self, Generated};
use unionstat_generator::returns::style::{Cell, Encoding, canonical, render, style};
use unionstat_generator::returns::{self, Options, write};
use unionstat_generator::table::{Date, Value};

fn write_to(dir: &Path, scale: f64, seed: u64, dirty_rate: f64, members: bool) -> Generated {
    let options = Options {
        seed,
        scale,
        dirty_rate,
        members,
    };
    let mut generator = generate::Generator::new(scale, seed);
    returns::write_all(dir, &mut generator, &options).expect("output is written");
    // The tables written one at a time equal the tables made all at once.
    generate::clean(scale, seed)
}

fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a readable folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, std::fs::read(&path).expect("a readable file"));
            }
        }
    }
    out
}

#[test]
fn the_same_seed_and_scale_give_byte_identical_files() {
    let (a, b, c) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    write_to(a.path(), 0.3, 11, 0.01, true);
    write_to(b.path(), 0.3, 11, 0.01, true);
    write_to(c.path(), 0.3, 12, 0.01, true);
    let (fa, fb, fc) = (
        files_under(a.path()),
        files_under(b.path()),
        files_under(c.path()),
    );
    assert!(fa.len() > 250, "only {} files", fa.len());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between two runs with the same seed"
        );
    }
    let differing = fa
        .iter()
        .filter(|(name, bytes)| fc.get(*name) != Some(bytes))
        .count();
    assert!(
        differing > fa.len() / 2,
        "a different seed changed only {differing} files"
    );
}

/// Days since Excel's epoch, as a workbook stores a date.
fn excel_serial(d: Date) -> f64 {
    let days_from_civil = |y: i64, m: i64, d: i64| {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy
    };
    (days_from_civil(i64::from(d.y), i64::from(d.m), i64::from(d.d))
        - days_from_civil(1899, 12, 30)) as f64
}

/// A file's cell, read back the way a reader of its format sees it.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Text(String),
    Number(f64),
    Blank,
}

fn read_cell(d: &Data) -> Read {
    match d {
        Data::Empty => Read::Blank,
        Data::String(s) => Read::Text(s.clone()),
        Data::Float(v) => Read::Number(*v),
        Data::Int(v) => Read::Number(*v as f64),
        Data::DateTime(dt) => Read::Number(dt.as_f64()),
        other => Read::Text(other.to_string()),
    }
}

/// What reading `cell` back should give in this format.
fn expected_read(cell: &Cell, xlsx: bool) -> Read {
    match (cell, xlsx) {
        (Cell::Blank, _) => Read::Blank,
        (Cell::Number(v, _), true) => Read::Number(*v),
        (Cell::Date(d), true) => Read::Number(excel_serial(*d)),
        (c, true) => Read::Text(c.text()),
        (c, false) if c.text().is_empty() => Read::Blank,
        (c, false) => Read::Text(c.text()),
    }
}

/// Headers and data rows (with their row numbers) of a return, in any of the formats.
fn read_return(
    path: &Path,
    format: &str,
    encoding: Option<Encoding>,
    delimiter: Option<&str>,
) -> (Vec<String>, Vec<(usize, Vec<Read>)>) {
    if format == "xlsx" {
        let mut book: Xlsx<_> = open_workbook(path).expect("a workbook");
        let range = book.worksheet_range(write::SHEET).expect("the data sheet");
        let rows: Vec<Vec<Read>> = range
            .rows()
            .map(|r| r.iter().map(read_cell).collect())
            .collect();
        // Row 3 holds group cells and ungrouped names (merged down); row 4 the grouped names.
        let headers = rows[2]
            .iter()
            .zip(&rows[3])
            .map(|(top, bottom)| match (top, bottom) {
                (_, Read::Text(name)) => name.clone(),
                (Read::Text(name), _) => name.clone(),
                _ => String::new(),
            })
            .collect();
        let data = rows
            .into_iter()
            .enumerate()
            .skip(write::XLSX_FIRST_DATA_ROW - 1)
            .map(|(i, r)| (i + 1, r))
            .collect();
        return (headers, data);
    }
    let bytes = std::fs::read(path).expect("a file");
    let text = match encoding {
        Some(Encoding::Gbk) => {
            let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
            assert!(!bad, "{} is not valid GBK", path.display());
            text.into_owned()
        }
        Some(Encoding::Utf8Bom) => {
            assert!(
                bytes.starts_with("\u{feff}".as_bytes()),
                "{} has no BOM",
                path.display()
            );
            String::from_utf8(bytes[3..].to_vec()).expect("UTF-8")
        }
        _ => String::from_utf8(bytes).expect("UTF-8"),
    };
    let delimiter = delimiter.and_then(|d| d.bytes().next()).unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records().map(|r| r.expect("a CSV record"));
    let headers = records
        .next()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    let data = records
        .enumerate()
        .map(|(i, r)| {
            (
                i + write::CSV_FIRST_DATA_ROW,
                r.iter()
                    .map(|f| {
                        if f.is_empty() {
                            Read::Blank
                        } else {
                            Read::Text(f.to_string())
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    (headers, data)
}

#[test]
fn every_file_holds_the_clean_rows_except_exactly_what_the_dirty_manifest_lists() {
    let dir = tempfile::tempdir().expect("tmp");
    let generated = write_to(dir.path(), 0.3, 5, 0.02, false);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let mut injected: BTreeMap<(String, usize), csv::StringRecord> = BTreeMap::new();
    let mut rules = HashSet::new();
    let mut log =
        csv::Reader::from_path(dir.path().join("dirty_manifest.csv")).expect("dirty manifest");
    for rec in log.records() {
        let rec = rec.expect("a record");
        rules.insert(rec[9].to_string());
        let row: usize = rec[2].parse().expect("a row number");
        assert!(
            injected
                .insert((rec[0].to_string(), row), rec.clone())
                .is_none(),
            "two injections in one row"
        );
    }
    assert_eq!(
        rules.len(),
        12,
        "every kind of fault and quirk occurs: {rules:?}"
    );

    let files = manifest["files"].as_array().expect("files");
    let mut faulty = HashSet::new();
    for f in files {
        let path = f["path"].as_str().expect("path");
        let table = generated
            .table(f["table"].as_str().expect("table"))
            .expect("a known table");
        let county = reference::counties()
            .iter()
            .position(|c| c.code == f["county_code"])
            .expect("a county");
        let year = f["year"].as_i64().expect("year") as i32;
        let style = style(county);
        let xlsx = f["format"] == "xlsx";
        let encoding: Option<Encoding> = match f["encoding"].as_str() {
            Some("GBK") => Some(Encoding::Gbk),
            Some("UTF-8-BOM") => Some(Encoding::Utf8Bom),
            Some(_) => Some(Encoding::Utf8),
            None => None,
        };
        let (headers, rows) = read_return(
            &dir.path().join(path),
            f["format"].as_str().expect("format"),
            encoding,
            f["delimiter"].as_str(),
        );
        let spec = table.spec;
        let want: Vec<String> = (0..spec.columns.len())
            .map(|i| spec.header(i, style.header_variant).to_string())
            .collect();
        assert_eq!(headers, want, "{path}: headers");

        let clean: Vec<&[Value]> = table
            .rows
            .iter()
            .filter(|r| r.county == county && table.year(r) == year)
            .map(|r| r.values.as_slice())
            .collect();
        let mut next = 0;
        let mut previous: Option<&Vec<Read>> = None;
        for (row_no, cells) in &rows {
            let injection = injected.get(&(path.to_string(), *row_no));
            if injection.is_some_and(|i| &i[9] == "duplicate_row") {
                assert_eq!(
                    Some(cells),
                    previous,
                    "{path} row {row_no}: a duplicate repeats the row above"
                );
                faulty.insert(path.to_string());
                continue;
            }
            let values = clean
                .get(next)
                .unwrap_or_else(|| panic!("{path} has more rows than the clean return"));
            for (i, col) in spec.columns.iter().enumerate() {
                let got = cells.get(i).cloned().unwrap_or(Read::Blank);
                let rendered = render(&values[i], col, &style);
                match injection {
                    Some(inj) if inj[3] == *col.name => {
                        let written = &inj[10];
                        let ok = match (&got, written.is_empty()) {
                            (Read::Blank, true) => true,
                            (Read::Text(t), _) => t == written,
                            (Read::Number(v), _) => {
                                written.parse::<f64>().is_ok_and(|w| (w - v).abs() < 1e-9)
                            }
                            _ => false,
                        };
                        assert!(
                            ok,
                            "{path} row {row_no} {}: wrote {written:?}, file has {got:?}",
                            col.name
                        );
                        if &inj[8] == "quirk" {
                            assert_eq!(
                                &inj[11],
                                canonical(&values[i]),
                                "{path} row {row_no}: a quirk's expected value is the clean one"
                            );
                        } else {
                            faulty.insert(path.to_string());
                        }
                    }
                    _ => {
                        let want = expected_read(&rendered, xlsx);
                        let same = match (&got, &want) {
                            (Read::Number(a), Read::Number(b)) => (a - b).abs() < 1e-6,
                            _ => got == want,
                        };
                        assert!(
                            same,
                            "{path} row {row_no} {}: file has {got:?}, clean is {want:?}",
                            col.name
                        );
                    }
                }
            }
            previous = Some(cells);
            next += 1;
        }
        assert_eq!(next, clean.len(), "{path}: every clean row is in the file");
        assert_eq!(
            f["rows"].as_u64(),
            Some(rows.len() as u64),
            "{path}: manifest row count"
        );
        if f["correction"] == true {
            assert!(
                injected.keys().all(|(p, _)| p != path),
                "{path}: a correction is clean"
            );
        }
    }
    // Every return with a fault is followed by its correction, and only those are.
    for f in files.iter().filter(|f| f["correction"] == false) {
        let path = f["path"].as_str().expect("path");
        let corrected = path.replacen(".", "_更正.", 1);
        let has_correction = files.iter().any(|g| g["path"] == corrected.as_str());
        assert_eq!(
            has_correction,
            faulty.contains(path),
            "{path}: corrected iff it had faults"
        );
    }
}

#[test]
fn the_member_registry_has_one_row_per_member() {
    let dir = tempfile::tempdir().expect("tmp");
    let generated = write_to(dir.path(), 0.1, 3, 0.0, true);
    let unions = generated.table("grassroots_unions").expect("unions");
    let members = unions.sum("members", |r| unions.year(r) == 2017) as usize;
    let mut rows = 0;
    let mut ids = HashSet::new();
    for entry in std::fs::read_dir(dir.path().join("members")).expect("members folder") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("file");
        let text = encoding_rs::GBK.decode(&bytes).0.into_owned();
        let text = text.trim_start_matches('\u{feff}');
        let delimiter = if text.lines().next().is_some_and(|l| l.contains('\t')) {
            b'\t'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        for rec in reader.records() {
            let rec = rec.expect("a record");
            assert!(
                unionstat_datasets::codes::id_is_valid(&rec[5]),
                "{}: bad ID {}",
                path.display(),
                &rec[5]
            );
            assert!(
                ids.insert(rec[0].to_string()),
                "member id {} repeats",
                &rec[0]
            );
            rows += 1;
        }
    }
    assert_eq!(rows, members);
}
