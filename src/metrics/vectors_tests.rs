use super::*;

#[test]
fn ratios_of_extreme_vectors() {
    let e = [1.0, 0.0, 0.0, 0.0];
    assert_eq!(loc_ratio(&e), 1.0);
    assert_eq!(part_ratio(&e), 1.0);
    let flat = [0.5; 4];
    assert!((loc_ratio(&flat) - 4.0).abs() < 1e-15);
    assert!((part_ratio(&flat) - 4f64.powf(0.25)).abs() < 1e-15);
}

#[test]
fn histogram_integrates_to_one() {
    let x: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
    let d = density_histogram(&x, 100);
    let lo = x.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let integral: f64 = d.iter().sum::<f64>() * (hi - lo) / 100.0;
    assert!((integral - 1.0).abs() < 1e-12);
    // A zero range is widened to width 1: all mass in one bin of width 1/4.
    assert_eq!(density_histogram(&[2.0, 2.0], 4), vec![0.0, 0.0, 4.0, 0.0]);
}

#[test]
fn localization_groups_and_ranges() {
    let data: Vec<f64> = (0..60).map(|i| ((i * 7 % 13) as f64 - 6.0) / 5.0).collect();
    let m = MatrixRef::new(12, 5, &data).unwrap();
    let all_bulk = localization(&[m], 1.0, None).unwrap();
    assert!(all_bulk.tail.loc_ratio.mean.is_none());
    let mean = all_bulk.bulk.loc_ratio.mean.unwrap();
    assert!((1.0..=5.0).contains(&mean));
    let p = all_bulk.bulk.part_ratio.mean.unwrap();
    assert!((1.0..=5f64.powf(0.25)).contains(&p));
    assert!(all_bulk.bulk.vec_entropy.var.unwrap() >= 0.0);
    let split = localization(&[m], 1.0, Some(0.0)).unwrap();
    assert!(split.bulk.loc_ratio.mean.is_none() && split.tail.loc_ratio.mean.is_some());
}
