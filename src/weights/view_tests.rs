use super::*;

fn v(rows: usize, cols: usize, kernel: &[usize]) -> MatrixView {
    MatrixView {
        rows,
        cols,
        kernel: kernel.to_vec(),
        slices: kernel.iter().product(),
    }
}

#[test]
fn q1_swap_matches_the_reference_quirks() {
    // quirks conv_even [32,64,2,2]: WW reports N=32, M=64, Q=0.5 (reference README Q1).
    let d = v(32, 64, &[2, 2]).dims(LayerKind::Conv2d, true);
    assert_eq!((d.n, d.m, d.q, d.rf), (32, 64, 0.5, 4));
    assert_eq!(d.num_evals(true), 256);
    let d = v(32, 64, &[2, 2]).dims(LayerKind::Conv2d, false);
    assert_eq!((d.n, d.m, d.q), (64, 32, 2.0));
    // Odd rf: the swaps leave the pair sorted.
    let d = v(32, 64, &[3, 3]).dims(LayerKind::Conv2d, true);
    assert_eq!((d.n, d.m), (64, 32));
    // Channel-mismatch branch: C_out + C_in < k_h + k_w keeps the unsorted pair.
    let d = v(3, 1, &[3, 3]).dims(LayerKind::Conv2d, true);
    assert_eq!((d.n, d.m), (3, 1));
    let d = v(1, 3, &[3, 3]).dims(LayerKind::Conv2d, true);
    assert_eq!((d.n, d.m), (1, 3));
    // Dense layers are never swapped.
    let d = v(10, 256, &[]).dims(LayerKind::Dense, true);
    assert_eq!((d.n, d.m, d.rf), (256, 10, 1));
}

#[test]
fn size_filter_pooled_and_sliced() {
    let mut o = AnalysisOptions::default();
    let dw = v(64, 1, &[3, 3]).dims(LayerKind::Conv2d, false);
    assert_eq!(size_filter(&dw, &o), None); // 9 ≥ 8 (Q15)
    o.pool = false;
    o.min_evals = 50;
    assert!(
        size_filter(&dw, &o)
            .unwrap()
            .contains("M = 1 < min_evals 50")
    );
    let big = v(60000, 64, &[]).dims(LayerKind::Dense, false);
    assert!(
        size_filter(&big, &AnalysisOptions::default())
            .unwrap()
            .contains("max_N")
    );
}

#[test]
fn conv_slices_follow_kernel_positions() {
    // [2,1,1,2]: value = 10·o + 1·p.
    let t = Dense {
        shape: vec![2, 1, 1, 2],
        data: vec![0.0, 1.0, 10.0, 11.0],
        dtype: 1,
    };
    let l = Layout::Conv { group: 1 };
    let view = view_for(&l, &t.shape, GroupedConv::Stacked).unwrap();
    assert_eq!((view.rows, view.cols, view.slices), (2, 1, 2));
    assert_eq!(
        slices_of(&l, &view, t.clone()).unwrap(),
        vec![0.0, 10.0, 1.0, 11.0]
    );
    // Blocks mode with g = 2: slice p·2 + j is row j of position p.
    let l = Layout::Conv { group: 2 };
    let view = view_for(&l, &t.shape, GroupedConv::Blocks).unwrap();
    assert_eq!((view.rows, view.cols, view.slices), (1, 1, 4));
    assert_eq!(
        slices_of(&l, &view, t.clone()).unwrap(),
        vec![0.0, 10.0, 1.0, 11.0]
    );
}
