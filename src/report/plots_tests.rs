use super::*;

#[test]
fn clipping() {
    let unit = (0.0, 1.0);
    // A diagonal through the box is cut at its edges.
    let (a, b) = clip_segment((-1.0, -1.0), (2.0, 2.0), unit, unit).unwrap();
    assert_eq!((a, b), ((0.0, 0.0), (1.0, 1.0)));
    // A steep line leaves through the top: y = 4x − 1 meets y = 1 at x = 0.5.
    let (a, b) = clip_segment((0.0, -1.0), (1.0, 3.0), unit, unit).unwrap();
    assert_eq!((a, b), ((0.25, 0.0), (0.5, 1.0)));
    assert!(clip_segment((0.0, 2.0), (1.0, 3.0), unit, unit).is_none());
    assert!(clip_segment((0.0, 2.0), (1.0, 2.0), unit, unit).is_none());
}
