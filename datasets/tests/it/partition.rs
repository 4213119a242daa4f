//! The schematic towns tile their county: valid polygons, no overlaps, and the same area.

use geo::{Area, BooleanOps, Contains, Validation};
use unionstat_datasets::geography::{GeometrySource, Level, regions};
use unionstat_datasets::reference;

#[test]
fn the_towns_of_each_county_tile_it() {
    for county in reference::counties() {
        let Some(shape) = regions()
            .iter()
            .find(|r| r.code == county.code)
            .and_then(|r| r.geometry.clone())
        else {
            panic!("{} has no boundary", county.name_zh);
        };
        let towns: Vec<_> = regions()
            .iter()
            .filter(|r| r.level == Level::Town && r.parent_code.as_deref() == Some(county.code))
            .collect();
        assert_eq!(
            towns.len(),
            reference::towns_of(county.code).count() - 1 - usize::from(county.code == "350802")
        );
        let mut total = 0.0;
        for (i, a) in towns.iter().enumerate() {
            let ga = a.geometry.as_ref().expect("towns have a boundary");
            assert_eq!(a.geometry_source, GeometrySource::Schematic);
            assert!(
                ga.is_valid(),
                "{} is not a valid polygon: {:?}",
                a.name_zh,
                ga.validation_errors()
            );
            assert!(ga.unsigned_area() > 0.0, "{} is empty", a.name_zh);
            assert!(
                ga.contains(&a.centroid),
                "{}'s seat lies outside it",
                a.name_zh
            );
            total += ga.unsigned_area();
            for b in &towns[i + 1..] {
                let overlap = ga
                    .intersection(b.geometry.as_ref().expect("a boundary"))
                    .unsigned_area();
                assert!(
                    overlap < 1e-9 * shape.unsigned_area(),
                    "{} overlaps {}",
                    a.name_zh,
                    b.name_zh
                );
            }
        }
        let gap = (total - shape.unsigned_area()).abs() / shape.unsigned_area();
        assert!(
            gap < 0.005,
            "{}'s towns cover {:.3}% more or less than it",
            county.name_zh,
            gap * 100.0
        );
    }
}

#[test]
fn areas_match_the_reference_figures() {
    let expected = [
        ("350802", 2676.0),
        ("350821", 3117.0),
        ("350803", 2221.0),
        ("350823", 2855.0),
        ("350824", 2639.0),
        ("350825", 2595.0),
        ("350881", 2963.0),
    ];
    for (code, km2) in expected {
        let region = regions().iter().find(|r| r.code == code).expect("a county");
        assert!(
            (region.area_km2 - km2).abs() / km2 < 0.01,
            "{code}: {} km2",
            region.area_km2
        );
    }
    let city = regions()
        .iter()
        .find(|r| r.level == Level::City)
        .expect("the city");
    assert!(
        (city.area_km2 - 19_066.0).abs() < 150.0,
        "{}",
        city.area_km2
    );
    assert_eq!(regions().len(), 1 + 7 + 133 + 8);
}
