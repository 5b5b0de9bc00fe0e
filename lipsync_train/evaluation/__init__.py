"""The quality yardstick: lip-sync predictions scored against the teacher on true timing.

* :mod:`.metrics`: viseme accuracy, bilabial closure recall, false closures, jaw
  correlation, mouth-channel L2 and lag, per file and pooled;
* :mod:`.reference`: true phone timing of the real-speech set (TextGrid or pocketsphinx);
* :mod:`.predictors`: the energy baseline, oracle sanity predictors, a registry by name;
* :mod:`.report`: the run over data sets -> JSON report, plots, table
  (``python -m lipsync_train.evaluation``).
"""
