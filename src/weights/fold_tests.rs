use super::*;

fn d(shape: &[usize], data: &[f64]) -> Dense {
    Dense {
        shape: shape.to_vec(),
        data: data.to_vec(),
        dtype: id::FLOAT,
    }
}

#[test]
fn reshape_rules() {
    assert_eq!(
        reshape_target(&[2, 3, 4], &[0, -1], false).unwrap(),
        vec![2, 12]
    );
    assert_eq!(reshape_target(&[2, 3], &[-1], false).unwrap(), vec![6]);
    assert!(reshape_target(&[2, 3], &[4, -1], false).is_err());
    assert!(reshape_target(&[2, 3], &[-1, -1], false).is_err());
    assert_eq!(reshape_target(&[0, 3], &[0, 3], true).unwrap(), vec![0, 3]);
}

#[test]
fn dequant_granularities() {
    let x = d(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    // Per tensor.
    let y = dequant(
        x.clone(),
        Some(&d(&[], &[2.0])),
        Some(&d(&[], &[1.0])),
        1,
        0,
    )
    .unwrap();
    assert_eq!(y.data, vec![0.0, 2.0, 4.0, 6.0]);
    // Per axis 1 (columns), negative axis.
    let y = dequant(x.clone(), Some(&d(&[2], &[1.0, 10.0])), None, -1, 0).unwrap();
    assert_eq!(y.data, vec![1.0, 20.0, 3.0, 40.0]);
    // Blocked along axis 1 with block 2: one scale per row.
    let y = dequant(x.clone(), Some(&d(&[2, 1], &[1.0, 0.5])), None, 1, 2).unwrap();
    assert_eq!(y.data, vec![1.0, 2.0, 1.5, 2.0]);
    assert!(dequant(x, Some(&d(&[3], &[1.0; 3])), None, 1, 0).is_err());
}

#[test]
fn index_walk_and_transpose() {
    let x = d(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(
        transpose(&x, &[1, 0]).data,
        vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    );
    let mut n = 0;
    for_each_index(&[2, 0, 3], |_| n += 1);
    assert_eq!(n, 0);
    assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
}

#[test]
fn blocked_swap_of_the_last_two_axes_matches_the_index_walk() {
    // Sizes that are not multiples of any block, with a batch axis in front.
    let (b, r, c) = (2, 37, 45);
    let vals: Vec<f64> = (0..b * r * c).map(|i| i as f64).collect();
    let x = d(&[b, r, c], &vals);
    assert!(swaps_last_two(&[0, 2, 1]) && swaps_last_two(&[1, 0]));
    assert!(!swaps_last_two(&[2, 1, 0]) && !swaps_last_two(&[0]));
    let walk = transpose(&x, &[0, 2, 1]);
    let fast = swap_last2(x).unwrap();
    assert_eq!(fast.shape, vec![b, c, r]);
    assert_eq!(fast.shape, walk.shape);
    assert_eq!(fast.data, walk.data);
    assert_eq!(fast.data[1], vals[c]);
}
