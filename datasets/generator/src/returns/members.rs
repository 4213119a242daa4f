//! The member registry (会员名册): one row per member at the end of 2017, one CSV per county,
//! streamed so that memory does not grow with the scale.

use std::io::Write;
use std::path::Path;

use crate::generate::organisation::World;
use crate::table::{Date, Value};
use unionstat_datasets::codes;
use unionstat_datasets::reference;
use unionstat_datasets::rng::Rng;
use unionstat_tables::MEMBERS;

use super::style::{self, Encoding, Format, render};
use super::{Result, io_err};

/// Writes `{county}_会员名册.csv` for each county into `dir`; returns the number of members.
pub fn write(dir: &Path, world: &World, seed: u64) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut total = 0;
    for (county, c) in reference::counties().iter().enumerate() {
        let style = style::style(county);
        let (encoding, delimiter) = match style.format {
            Format::Csv {
                encoding,
                delimiter,
            } => (encoding, delimiter),
            Format::Xlsx => (Encoding::Utf8, b','),
        };
        // The registry is as of the end of the last year reviewed.
        let path = dir.join(format!(
            "{}{}_{}_2017.csv",
            c.code, c.name_zh, MEMBERS.file_stem
        ));
        let file = std::fs::File::create(&path).map_err(io_err(&path))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        if encoding == Encoding::Utf8Bom {
            out.write_all("\u{feff}".as_bytes())
                .map_err(io_err(&path))?;
        }
        // Fields hold codes, names, dates and digits only, so no quoting is needed.
        let sep = char::from(delimiter).to_string();
        let headers: Vec<&str> = (0..MEMBERS.columns.len())
            .map(|i| MEMBERS.header(i, style.header_variant))
            .collect();
        let mut buffer = headers.join(&sep) + "\r\n";
        let flush =
            |buffer: &mut String, out: &mut std::io::BufWriter<std::fs::File>| -> Result<()> {
                let bytes = match encoding {
                    Encoding::Gbk => encoding_rs::GBK.encode(buffer).0.into_owned(),
                    _ => buffer.as_bytes().to_vec(),
                };
                buffer.clear();
                out.write_all(&bytes).map_err(io_err(&path))
            };
        let mut rng = Rng::for_part(seed, &format!("members/{}", c.code));
        let mut serial: u64 = 0;
        for union in world
            .unions
            .iter()
            .filter(|u| u.exists_in(2017) && world.towns[u.town].county == county)
        {
            let members = union.members[4];
            let migrants = (f64::from(members) * union.migrant_share).round() as u32;
            // Recruits of 2017 first, then of each earlier year; the rest joined before 2013.
            let mut joined: Vec<i32> = Vec::with_capacity(members as usize);
            for (yi, n) in union.new_members.iter().enumerate().rev() {
                joined.extend(std::iter::repeat_n(2013 + yi as i32, *n as usize));
            }
            let town = Value::Text(world.towns[union.town].code.to_string());
            let town_cell = render(&town, &MEMBERS.columns[2], &style).text();
            for k in 0..members {
                serial += 1;
                let female = rng.chance(union.female_share);
                let born = rng.range(1957, 1999) as i32;
                let birth = Date::random_in(&mut rng, born, 1, 12);
                let earliest = union.founded.y.max(born + 18);
                let year = joined.get(k as usize).copied().unwrap_or_else(|| {
                    if earliest >= 2013 {
                        earliest.min(2017)
                    } else {
                        rng.range(i64::from(earliest), 2012) as i32
                    }
                });
                let join = Date::random_in(&mut rng, year.max(earliest).min(2017), 1, 12);
                let id =
                    codes::make_id_number(&mut rng, c.code, (birth.y, birth.m, birth.d), female);
                let member_id = format!("HY{}{serial:08}", c.code);
                let phone = codes::make_mobile(&mut rng);
                let fields = [
                    member_id.as_str(),
                    &union.uscc,
                    &town_cell,
                    if female { "女" } else { "男" },
                    &birth.iso(),
                    &id,
                    &phone,
                    if k < migrants { "是" } else { "否" },
                    &join.iso(),
                ];
                buffer.push_str(&fields.join(&sep));
                buffer.push_str("\r\n");
            }
            if buffer.len() > 1 << 20 {
                flush(&mut buffer, &mut out)?;
            }
            total += u64::from(members);
        }
        flush(&mut buffer, &mut out)?;
        out.flush().map_err(io_err(&path))?;
    }
    Ok(total)
}
