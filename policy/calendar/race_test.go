//go:build race

package calendar

// raceEnabled slows the year-long oracle down to a sample under the race
// detector, which makes each evaluation many times slower.
const raceEnabled = true
