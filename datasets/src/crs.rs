//! Conversions between the coordinate systems Chinese data arrives in: WGS-84 (GPS, and what the lake
//! stores), GCJ-02 (the obfuscated datum of mainland web maps) and BD-09 (Baidu's offset of GCJ-02).
//! CGCS2000 agrees with WGS-84 to well under a metre, so it needs no conversion at this scale.

use std::f64::consts::PI;

/// A coordinate reference system that a geometry or point may be declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Crs {
    /// WGS-84 longitude/latitude (EPSG:4326); what the lake stores.
    #[serde(rename = "WGS-84")]
    Wgs84,
    /// China Geodetic Coordinate System 2000 (EPSG:4490); treated as WGS-84.
    #[serde(rename = "CGCS2000")]
    Cgcs2000,
    /// The GCJ-02 datum used by mainland web maps.
    #[serde(rename = "GCJ-02")]
    Gcj02,
    /// Baidu's BD-09.
    #[serde(rename = "BD-09")]
    Bd09,
}

impl Crs {
    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Crs::Wgs84 => "WGS-84",
            Crs::Cgcs2000 => "CGCS2000",
            Crs::Gcj02 => "GCJ-02",
            Crs::Bd09 => "BD-09",
        }
    }

    /// Parses a name as users write it (`wgs84`, `WGS-84`, `EPSG:4326`, `gcj02`, `bd09`, ...).
    pub fn parse(s: &str) -> Option<Crs> {
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        match key.as_str() {
            "WGS84" | "EPSG4326" | "4326" => Some(Crs::Wgs84),
            "CGCS2000" | "EPSG4490" | "4490" => Some(Crs::Cgcs2000),
            "GCJ02" | "GCJ" | "MARS" => Some(Crs::Gcj02),
            "BD09" | "BAIDU" => Some(Crs::Bd09),
            _ => None,
        }
    }

    /// Converts a WGS-84 (lon, lat) into this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (x, y) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(x, y)
            }
        }
    }

    /// Converts a (lon, lat) in this system into WGS-84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => {
                let (x, y) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(x, y)
            }
        }
    }
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The published forward GCJ-02 transform.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// The inverse of [`wgs84_to_gcj02`] by fixed-point iteration (to about 1e-9 degrees).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (gx, gy) = wgs84_to_gcj02(x, y);
        let (dx, dy) = (gx - lon, gy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

const X_PI: f64 = PI * 3000.0 / 180.0;

fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj02_offset_in_longyan_is_a_few_hundred_metres_and_inverts() {
        let (lon, lat) = (117.0171, 25.0758);
        let (gx, gy) = wgs84_to_gcj02(lon, lat);
        let metres = ((gx - lon) * 101_000.0).hypot((gy - lat) * 111_000.0);
        assert!((100.0..1000.0).contains(&metres), "{metres}");
        for crs in [Crs::Gcj02, Crs::Bd09] {
            let (x, y) = crs.from_wgs84(lon, lat);
            let (bx, by) = crs.to_wgs84(x, y);
            assert!(
                (bx - lon).abs() < 1e-6 && (by - lat).abs() < 1e-6,
                "{crs:?}"
            );
        }
        assert_eq!(Crs::parse("epsg:4326"), Some(Crs::Wgs84));
        assert_eq!(Crs::parse("GCJ-02"), Some(Crs::Gcj02));
    }
}
