use super::*;

#[test]
fn finds_the_minimum_of_a_parabola() {
    let r = minimize(|x| (x - 3.0) * (x - 3.0) + 1.0, 1.0, 1e-8, 1e-8);
    assert!((r.x - 3.0).abs() < 1e-6, "{r:?}");
    assert!((r.fx - 1.0).abs() < 1e-10);
    assert!(r.evals <= 200);
}

#[test]
fn starts_from_zero_with_scipys_zero_delta() {
    let r = minimize(|x| (x + 0.5).abs(), 0.0, 1e-6, 1e-6);
    assert!((r.x + 0.5).abs() < 1e-5, "{r:?}");
}

#[test]
fn stops_at_the_evaluation_budget() {
    // A function with no minimum keeps expanding; the budget must stop it.
    let r = minimize(|x| -x, 1.0, 1e-12, 1e-12);
    assert!(r.evals <= MAX_FUN + 1);
    assert!(r.x > 1.0);
}

#[test]
fn scipy_reference_path_on_a_quartic() {
    // scipy.optimize.fmin(lambda x: (x[0]**2 - 2)**2, 1.0, xtol=1e-4, ftol=1e-4)
    // converges to sqrt(2) within xtol; check the tolerance semantics.
    let r = minimize(|x| (x * x - 2.0).powi(2), 1.0, 1e-4, 1e-4);
    assert!((r.x - 2f64.sqrt()).abs() < 2e-4, "{r:?}");
}

#[test]
fn nd_reproduces_scipy_on_rosenbrock() {
    // scipy 1.17.1: fmin(rosen, [-1.2, 1.0], xtol=1e-4, ftol=1e-4, full_output=1)
    // -> x = [1.0000220217835696, 1.0000422197517715], fopt 8.177661197416674e-10,
    //    85 iterations, 159 function calls.
    let rosen = |p: &[f64]| 100.0 * (p[1] - p[0] * p[0]).powi(2) + (1.0 - p[0]).powi(2);
    let r = minimize_nd(rosen, &[-1.2, 1.0], 1e-4, 1e-4);
    assert_eq!(r.x, vec![1.0000220217835696, 1.0000422197517715]);
    assert_eq!(r.fx, 8.177661197416674e-10);
    assert_eq!((r.iters, r.evals), (85, 159));
}

#[test]
fn nd_with_one_parameter_agrees_with_the_1d_routine() {
    // scipy: fmin(lambda p: (p[0]-3)**2 + 1, [1.0], xtol=1e-8, ftol=1e-8) -> x =
    // 3.0000000000000044, 33 iterations, 66 calls.
    let r = minimize_nd(|p| (p[0] - 3.0) * (p[0] - 3.0) + 1.0, &[1.0], 1e-8, 1e-8);
    let one = minimize(|x| (x - 3.0) * (x - 3.0) + 1.0, 1.0, 1e-8, 1e-8);
    assert_eq!(r.x, vec![3.0000000000000044]);
    assert_eq!(r.x[0], one.x);
    assert_eq!((r.iters, r.evals), (33, 66));
}

#[test]
fn nd_stops_at_scipys_budget() {
    // scipy: fmin(lambda p: -p[0]-p[1]-p[2], [1.0, 0.0, 2.0], xtol=1e-12, ftol=1e-12)
    // -> fopt -2.9022577869531944e+53 after 299 iterations and 600 calls (maxfun = 600).
    let r = minimize_nd(|p| -p[0] - p[1] - p[2], &[1.0, 0.0, 2.0], 1e-12, 1e-12);
    assert_eq!(r.fx, -2.9022577869531944e+53);
    assert_eq!(
        r.x,
        vec![
            6.003852012838389e+52,
            -1.1905886282489605e+50,
            2.3030631742976046e+53
        ]
    );
    assert_eq!((r.iters, r.evals), (299, 600));
}
