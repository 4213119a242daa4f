//! Boundaries: the 7 real county polygons and a schematic partition of each county into its towns.
//!
//! No free source publishes town boundaries, so each county is divided into Voronoi cells around
//! seeded town seats (street offices near the county seat), clipped to the county. The cells tile the
//! county exactly; they are marked `schematic` and a user's own boundaries replace them through ingest.

use std::sync::OnceLock;

use geo::{
    Area, BooleanOps, BoundingRect, Centroid, Contains, Coord, LineString, MultiPolygon, Point,
    Polygon, RemoveRepeatedPoints,
};

use crate::crs::Crs;
use crate::reference::{self, TownKind};
use crate::rng::Rng;

/// The CRS the embedded county polygons are in. Their source does not say; web maps of their lineage
/// use GCJ-02, so they are declared GCJ-02 and converted to WGS-84 on load.
pub const COUNTY_SOURCE_CRS: Crs = Crs::Gcj02;

/// The fixed seed of the schematic town partition: the reference geography does not change with
/// the generator's `--seed`.
pub const PARTITION_SEED: u64 = 3508;

const COUNTIES_GEOJSON: &str = include_str!("../data/longyan_counties.geojson");

/// Where a region's geometry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GeometrySource {
    /// A published boundary (the counties).
    Official,
    /// Derived by this project; shape and area are indicative only.
    Schematic,
    /// Loaded from a user's own file.
    User,
    /// No boundary (industrial parks).
    None,
}

/// The administrative level of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 龙岩市.
    City,
    /// A county, district or county-level city.
    County,
    /// A town, township or street office.
    Town,
    /// An industrial park's union body.
    Park,
}

/// One row of the `regions` dimension, geometry in WGS-84.
#[derive(Debug, Clone)]
pub struct Region {
    /// City 4-digit, county 6-digit, town 9-digit code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The enclosing region's code (none for the city).
    pub parent_code: Option<String>,
    /// City, county, town or park.
    pub level: Level,
    /// Boundary, if the region has one.
    pub geometry: Option<MultiPolygon<f64>>,
    /// A representative point: the town seat for towns, the boundary's centroid otherwise.
    pub centroid: Point<f64>,
    /// Area in km2 (0 without a boundary).
    pub area_km2: f64,
    /// Provenance of `geometry`.
    pub geometry_source: GeometrySource,
    /// True where the name is illustrative (the parks).
    pub illustrative: bool,
}

/// Area in km2 of a lon/lat geometry, by an equirectangular projection at its own latitude
/// (good to a fraction of a percent at a county's size).
pub fn area_km2(geometry: &MultiPolygon<f64>) -> f64 {
    let lat = geometry.centroid().map_or(25.0, |c| c.y());
    let km_per_deg_lat = 111.195;
    let km_per_deg_lon = km_per_deg_lat * lat.to_radians().cos();
    geometry.unsigned_area() * km_per_deg_lat * km_per_deg_lon
}

/// All regions: the city, the 7 counties, the 133 towns and the 8 parks, in code order.
pub fn regions() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    REGIONS.get_or_init(build_regions)
}

/// The region with this code.
pub fn region(code: &str) -> Option<&'static Region> {
    regions().iter().find(|r| r.code == code)
}

fn county_polygons() -> Vec<(String, Point<f64>, MultiPolygon<f64>)> {
    let Ok(geojson::GeoJson::FeatureCollection(fc)) = COUNTIES_GEOJSON.parse::<geojson::GeoJson>()
    else {
        return Vec::new();
    };
    fc.features
        .into_iter()
        .filter_map(|f| {
            let props = f.properties?;
            let code = props.get("adcode")?.as_str()?.to_string();
            let center = props.get("center")?.as_array()?;
            let (cx, cy) =
                COUNTY_SOURCE_CRS.to_wgs84(center.first()?.as_f64()?, center.get(1)?.as_f64()?);
            let geometry: geo::Geometry<f64> = f.geometry?.try_into().ok()?;
            let mut polygons = match geometry {
                geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
                geo::Geometry::MultiPolygon(mp) => mp,
                _ => return None,
            };
            for p in &mut polygons.0 {
                *p = to_wgs84(p).remove_repeated_points();
            }
            Some((code, Point::new(cx, cy), polygons))
        })
        .collect()
}

fn to_wgs84(p: &Polygon<f64>) -> Polygon<f64> {
    let ring = |ls: &LineString<f64>| -> LineString<f64> {
        ls.coords()
            .map(|c| {
                let (x, y) = COUNTY_SOURCE_CRS.to_wgs84(c.x, c.y);
                Coord { x, y }
            })
            .collect()
    };
    Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
}

fn build_regions() -> Vec<Region> {
    let counties = county_polygons();
    let mut regions = Vec::new();
    let city: Vec<Polygon<f64>> = counties.iter().flat_map(|(_, _, g)| g.0.clone()).collect();
    let city = MultiPolygon(city);
    regions.push(Region {
        code: reference::CITY_CODE.to_string(),
        name_zh: reference::CITY_NAME_ZH.to_string(),
        name_en: reference::CITY_NAME_EN.to_string(),
        parent_code: None,
        level: Level::City,
        centroid: city.centroid().unwrap_or(Point::new(117.0, 25.1)),
        area_km2: area_km2(&city),
        geometry: Some(city),
        geometry_source: GeometrySource::Official,
        illustrative: false,
    });
    for county in reference::counties() {
        let Some((_, seat, shape)) = counties.iter().find(|(code, _, _)| code == county.code)
        else {
            continue;
        };
        regions.push(Region {
            code: county.code.to_string(),
            name_zh: county.name_zh.to_string(),
            name_en: county.name_en.to_string(),
            parent_code: Some(reference::CITY_CODE.to_string()),
            level: Level::County,
            centroid: shape.centroid().unwrap_or(*seat),
            area_km2: area_km2(shape),
            geometry: Some(shape.clone()),
            geometry_source: GeometrySource::Official,
            illustrative: false,
        });
        let towns: Vec<_> = reference::towns_of(county.code).collect();
        let admin: Vec<_> = towns.iter().filter(|t| t.kind != TownKind::Park).collect();
        let mut rng = Rng::for_part(PARTITION_SEED, county.code);
        let kinds: Vec<TownKind> = admin.iter().map(|t| t.kind).collect();
        let seats = town_seats(&mut rng, shape, *seat, &kinds);
        let cells = voronoi_cells(shape, &seats);
        for ((town, seat), cell) in admin.iter().zip(&seats).zip(cells) {
            regions.push(Region {
                code: town.code.clone(),
                name_zh: town.name_zh.clone(),
                name_en: town.name_en.clone(),
                parent_code: Some(county.code.to_string()),
                level: Level::Town,
                centroid: *seat,
                area_km2: area_km2(&cell),
                geometry: Some(cell),
                geometry_source: GeometrySource::Schematic,
                illustrative: false,
            });
        }
        for (i, park) in towns
            .iter()
            .filter(|t| t.kind == TownKind::Park)
            .enumerate()
        {
            // Parks sit on the edge of the county seat, in no town of their own.
            let angle = 0.7 + 2.1 * i as f64;
            let at = Point::new(
                seat.x() + 0.045 * angle.cos(),
                seat.y() + 0.04 * angle.sin(),
            );
            regions.push(Region {
                code: park.code.clone(),
                name_zh: park.name_zh.clone(),
                name_en: park.name_en.clone(),
                parent_code: Some(county.code.to_string()),
                level: Level::Park,
                centroid: if shape.contains(&at) { at } else { *seat },
                area_km2: 0.0,
                geometry: None,
                geometry_source: GeometrySource::None,
                illustrative: true,
            });
        }
    }
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    regions
}

/// Seeds of the partition: street offices within a few km of the county seat, towns and townships
/// spread over the county with a minimum spacing that relaxes until all fit.
fn town_seats(
    rng: &mut Rng,
    shape: &MultiPolygon<f64>,
    seat: Point<f64>,
    kinds: &[TownKind],
) -> Vec<Point<f64>> {
    let Some(bbox) = shape.bounding_rect() else {
        return vec![seat; kinds.len()];
    };
    let cos_lat = seat.y().to_radians().cos();
    let dist = |a: &Point<f64>, b: &Point<f64>| ((a.x() - b.x()) * cos_lat).hypot(a.y() - b.y());
    let streets = kinds.iter().filter(|k| **k == TownKind::Street).count();
    let typical = (shape.unsigned_area() * cos_lat / kinds.len() as f64).sqrt();
    let mut seats: Vec<Point<f64>> = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let (mut spacing, radius) = if *kind == TownKind::Street {
            (0.012, 0.02 + 0.006 * streets as f64)
        } else {
            (0.8 * typical, f64::INFINITY)
        };
        let mut placed = None;
        while placed.is_none() {
            for _ in 0..200 {
                let p = if radius.is_finite() {
                    let (a, r) = (
                        rng.range_f64(0.0, std::f64::consts::TAU),
                        radius * rng.f64().sqrt(),
                    );
                    Point::new(seat.x() + r * a.cos() / cos_lat, seat.y() + r * a.sin())
                } else {
                    Point::new(
                        rng.range_f64(bbox.min().x, bbox.max().x),
                        rng.range_f64(bbox.min().y, bbox.max().y),
                    )
                };
                if shape.contains(&p) && seats.iter().all(|s| dist(s, &p) >= spacing) {
                    placed = Some(p);
                    break;
                }
            }
            spacing *= 0.85;
        }
        if let Some(p) = placed {
            seats.push(p);
        }
    }
    seats
}

/// The Voronoi cell of each seat, clipped to `shape`. Cells are built by cutting a box around the
/// county with each perpendicular bisector, in a frame scaled so that distances are isotropic.
fn voronoi_cells(shape: &MultiPolygon<f64>, seats: &[Point<f64>]) -> Vec<MultiPolygon<f64>> {
    let Some(bbox) = shape.bounding_rect() else {
        return Vec::new();
    };
    let k = bbox.center().y.to_radians().cos();
    let pad = 0.1;
    let frame: Vec<(f64, f64)> = vec![
        ((bbox.min().x - pad) * k, bbox.min().y - pad),
        ((bbox.max().x + pad) * k, bbox.min().y - pad),
        ((bbox.max().x + pad) * k, bbox.max().y + pad),
        ((bbox.min().x - pad) * k, bbox.max().y + pad),
    ];
    let scaled: Vec<(f64, f64)> = seats.iter().map(|p| (p.x() * k, p.y())).collect();
    scaled
        .iter()
        .enumerate()
        .map(|(i, &si)| {
            let mut cell = frame.clone();
            for (j, &sj) in scaled.iter().enumerate() {
                if i != j {
                    cell = clip_half_plane(&cell, si, sj);
                }
            }
            let mut ring: Vec<Coord<f64>> =
                cell.iter().map(|&(x, y)| Coord { x: x / k, y }).collect();
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            let cell = Polygon::new(LineString(ring), vec![]);
            shape.intersection(&cell)
        })
        .collect()
}

/// Keeps the part of convex polygon `poly` that is at least as close to `a` as to `b`.
fn clip_half_plane(poly: &[(f64, f64)], a: (f64, f64), b: (f64, f64)) -> Vec<(f64, f64)> {
    let (nx, ny) = (b.0 - a.0, b.1 - a.1);
    let c = (b.0 * b.0 + b.1 * b.1 - a.0 * a.0 - a.1 * a.1) / 2.0;
    let side = |p: (f64, f64)| nx * p.0 + ny * p.1 - c; // <= 0 inside
    let mut out = Vec::with_capacity(poly.len() + 1);
    for (idx, &p) in poly.iter().enumerate() {
        let q = poly[(idx + 1) % poly.len()];
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp <= 0.0) != (sq <= 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}
