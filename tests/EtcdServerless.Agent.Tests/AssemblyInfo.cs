// Each restore test runs three agents supervising three etcd members and restarts them all; run the classes one
// after another so a 2-core CI machine never times out a member's restart under another class's load (a rollback
// once failed that way while the API and command-line classes ran beside it).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
