"""Operations of the background-work kernel for the console's "system" page: queue health, workers,
dead letters and their replay, upcoming timers."""
