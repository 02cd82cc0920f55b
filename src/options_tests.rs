use super::*;

#[test]
fn presets_match_the_spec_table() {
    let ww = Preset::Ww.options();
    assert!(ww.pool && ww.conv2d_norm && !ww.mp_fit);
    assert_eq!((ww.min_evals, ww.max_evals, ww.max_n), (8, 15000, 50000));
    let nb = Preset::Ww2x.options();
    assert!(!nb.pool && nb.mp_fit);
    assert_eq!(nb.min_evals, 50);
    let n21 = Preset::Nature2021.options();
    assert_eq!(n21.pl_package, PlPackage::Powerlaw);
    assert_eq!(n21.xmax, Xmax::Force);
    assert_eq!(n21.norm_convention, NormConvention::Frobenius);
    for p in Preset::ALL {
        p.options().validate().unwrap();
    }
}

#[test]
fn overrides_parse_from_yaml_and_pairs() {
    let o: AnalysisOverrides =
        serde_saphyr::from_str("mp_fit: true\nmax_N: 100\ncompat: ww-0.7.7\nxmax: force\n")
            .unwrap();
    assert_eq!(o.mp_fit, Some(true));
    assert_eq!(o.max_n, Some(100));
    assert_eq!(o.compat, Some(Compat::ww077()));
    assert_eq!(o.xmax, Some(Xmax::Force));
    let p = AnalysisOverrides::from_pairs(&["compat=[sv_min, detX_names]".into(), "xmax=3".into()])
        .unwrap();
    assert_eq!(
        p.compat.unwrap().0.into_iter().collect::<Vec<_>>(),
        vec![Quirk::SvMin, Quirk::DetxNames]
    );
    assert_eq!(p.xmax, Some(Xmax::Drop(3)));
}

#[test]
fn shipped_preset_files_equal_their_presets() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
    for p in Preset::ALL {
        let cfg = AnalysisConfig::load(&dir.join(format!("{}.yaml", p.name()))).unwrap();
        assert_eq!(cfg.preset, Some(p));
        let from_file = AnalysisOptions::resolve(Preset::Ww, &cfg.analysis).unwrap();
        assert_eq!(from_file, p.options(), "configs/{}.yaml", p.name());
    }
}

#[test]
fn unknown_keys_and_bad_combinations_are_rejected() {
    assert!(serde_saphyr::from_str::<AnalysisOverrides>("mpfit: true\n").is_err());
    assert!(AnalysisOverrides::from_pairs(&["nope=1".into()]).is_err());
    let mut o = AnalysisOptions {
        xmax: Xmax::Force,
        ..Default::default()
    };
    assert!(o.validate().is_err());
    o.pl_package = PlPackage::Powerlaw;
    assert!(o.validate().is_ok());
    o.min_evals = 20000;
    assert!(o.validate().is_err());
}

#[test]
fn layers_parse_as_ids_and_names_and_reject_mixing_exclusion_with_selection() {
    let p = AnalysisOverrides::from_pairs(&["layers=[0, fc2.weight, \"7\"]".into()]).unwrap();
    assert_eq!(
        p.layers,
        Some(Some(vec![
            LayerRef::Id(0),
            LayerRef::Name("fc2.weight".into()),
            LayerRef::Name("7".into())
        ]))
    );
    let o = AnalysisOptions::resolve(Preset::Ww, &p).unwrap();
    assert_eq!(o.layers.as_ref().map(Vec::len), Some(3));
    let neg = AnalysisOverrides::from_pairs(&["layers=[-1, -2]".into()]).unwrap();
    AnalysisOptions::resolve(Preset::Ww, &neg).unwrap();
    let mixed = AnalysisOverrides::from_pairs(&["layers=[-1, 2]".into()]).unwrap();
    let e = AnalysisOptions::resolve(Preset::Ww, &mixed).unwrap_err();
    assert!(e.to_string().contains("cannot be mixed"), "{e}");
    let named = AnalysisOverrides::from_pairs(&["layers=[-1, fc1.weight]".into()]).unwrap();
    assert!(AnalysisOptions::resolve(Preset::Ww, &named).is_err());
    // Unset, the option is not written: options (and the saved analyses keyed by their hash)
    // read and hash as before it existed.
    let json = serde_json::to_value(AnalysisOptions::default()).unwrap();
    assert!(json.get("layers").is_none(), "{json}");
    let back: AnalysisOptions = serde_json::from_value(json).unwrap();
    assert_eq!(back, AnalysisOptions::default());
    let set = serde_json::to_value(&o).unwrap();
    assert_eq!(set["layers"], serde_json::json!([0, "fc2.weight", "7"]));
}
