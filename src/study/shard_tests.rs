use super::*;

#[test]
fn shards_partition_the_models_stably() {
    assert!(Shard::parse("0/2").is_err());
    assert!(Shard::parse("3/2").is_err());
    assert!(Shard::parse("2").is_err());
    assert!(Shard::parse("a/b").is_err());
    let n = 3;
    let shards: Vec<Shard> = (1..=n)
        .map(|k| Shard::parse(&format!("{k}/{n}")).unwrap())
        .collect();
    for i in 0..10 {
        let owners: Vec<usize> = shards
            .iter()
            .filter(|s| s.owns(i))
            .map(|s| s.index)
            .collect();
        assert_eq!(owners, vec![i % n + 1], "model {i}");
    }
    assert_eq!(shards[1].manifest_name(), "shards/2-of-3.json");
}
