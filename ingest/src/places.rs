//! Where a row is: town names to codes within the reporting county (full names, names without
//! 镇/乡/街道, codes), industry names or letters to GB/T 4754 sections, and points to the town whose
//! boundary contains them.

use std::collections::HashMap;

use geo::{BoundingRect, Contains, MultiPolygon, Point};
use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};
use unionstat_datasets::geography::{self, Level};
use unionstat_datasets::reference;

use crate::headers::header_key;

/// Resolves town names of one county's returns.
#[derive(Debug)]
pub struct Towns {
    by_name: HashMap<String, &'static str>,
}

impl Towns {
    /// The town-level bodies of `county_code`, under every name returns use for them.
    pub fn of_county(county_code: &str) -> Self {
        let mut by_name = HashMap::new();
        for t in reference::towns_of(county_code) {
            let code = t.code.as_str();
            by_name.insert(header_key(&t.name_zh), code);
            by_name.insert(header_key(reference::short_name(&t.name_zh)), code);
            by_name.insert(code.to_string(), code);
        }
        Towns { by_name }
    }

    /// The 9-digit code of a town name as written, if it is one of this county's.
    pub fn code(&self, name: &str) -> Option<&'static str> {
        // Most cells are written exactly as a known name: only the others need normalising.
        self.by_name
            .get(name)
            .or_else(|| self.by_name.get(&header_key(name)))
            .copied()
    }
}

/// The industry section of a name or letter as written (`制造业`, `C`, `C 制造业`).
pub fn industry_code(s: &str) -> Option<&'static str> {
    static BY_NAME: std::sync::LazyLock<HashMap<String, &'static str>> =
        std::sync::LazyLock::new(|| {
            let mut by_name = HashMap::new();
            for i in reference::INDUSTRIES {
                let letter = i.code.to_lowercase();
                let name = header_key(i.name_zh);
                by_name.insert(format!("{letter}{name}"), i.code);
                by_name.insert(i.code.to_string(), i.code);
                by_name.insert(letter, i.code);
                by_name.insert(name, i.code);
            }
            by_name
        });
    BY_NAME
        .get(s)
        .or_else(|| BY_NAME.get(&header_key(s)))
        .copied()
}

/// Town boundaries indexed for point lookups.
pub struct TownIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    shapes: Vec<(&'static str, &'static MultiPolygon<f64>)>,
}

impl std::fmt::Debug for TownIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TownIndex({} towns)", self.shapes.len())
    }
}

impl TownIndex {
    /// The index over the reference town boundaries, built on first use: only returns with
    /// points need it, and building the boundaries takes a noticeable fraction of a second.
    pub fn reference() -> &'static Self {
        static INDEX: std::sync::LazyLock<TownIndex> = std::sync::LazyLock::new(TownIndex::build);
        &INDEX
    }

    fn build() -> Self {
        let shapes: Vec<(&'static str, &'static MultiPolygon<f64>)> = geography::regions()
            .iter()
            .filter(|r| r.level == Level::Town)
            .filter_map(|r| r.geometry.as_ref().map(|g| (r.code.as_str(), g)))
            .collect();
        let boxes = shapes
            .iter()
            .enumerate()
            .filter_map(|(i, (_, g))| {
                let b = g.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                    i,
                ))
            })
            .collect();
        TownIndex {
            tree: RTree::bulk_load(boxes),
            shapes,
        }
    }

    /// The code of the town containing (lon, lat) in WGS-84, if any.
    pub fn town_at(&self, lon: f64, lat: f64) -> Option<&'static str> {
        let p = Point::new(lon, lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .map(|c| self.shapes[c.data])
            .find(|(_, g)| g.contains(&p))
            .map(|(code, _)| code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn towns_resolve_by_full_name_short_name_and_code() {
        let xinluo = Towns::of_county("350802");
        assert_eq!(xinluo.code("东城街道"), Some("350802001"));
        assert_eq!(xinluo.code("东城"), Some("350802001"));
        assert_eq!(xinluo.code("350802101"), Some("350802101"));
        assert_eq!(xinluo.code("万安"), Some("350802104"));
        assert_eq!(Towns::of_county("350824").code("万安镇"), Some("350824109"));
        assert_eq!(xinluo.code("红星镇"), None);
        assert_eq!(xinluo.code("汀州镇"), None, "a town of another county");
        assert_eq!(industry_code("制造业"), Some("C"));
        assert_eq!(industry_code("c"), Some("C"));
        assert_eq!(industry_code("造船业"), None);
    }

    #[test]
    fn a_town_seat_lies_in_its_own_town() {
        let index = TownIndex::reference();
        for r in geography::regions()
            .iter()
            .filter(|r| r.level == Level::Town)
        {
            assert_eq!(
                index.town_at(r.centroid.x(), r.centroid.y()),
                Some(r.code.as_str()),
                "{}",
                r.name_zh
            );
        }
        assert_eq!(index.town_at(100.0, 20.0), None);
    }
}
