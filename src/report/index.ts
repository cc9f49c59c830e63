/**
 * Reports: self-contained HTML pages (plotly embedded) for runs, voltage traces and surrogate
 * comparisons, plus decimation helpers. See src/report/types.ts for the input structures.
 */
export * from './types.js';
export { decimateMinMax, decimateStride, spikeSteps, rasterMarks, type Decimated, type RasterMarks } from './decimate.js';
export { renderPage, writePage, escapeHtml, jsonForScript, pageFigures, plotlyVersion, type Figure, type Table, type Block, type Section, type ReportPage } from './page.js';
export { metricFigures, configTable, flattenConfig, epochTable } from './metrics.js';
export { voltageFigure, rasterFigure, readoutFigure, firingRates, rateComparisonFigure, traceBlocks, type TraceFigureOptions } from './traces.js';
export { sampleSurrogates, surrogateOverlayFigure, surrogateGridFigure, surrogateShapeFigure, surrogateAccuracyTable, surrogateAccuracyFigure, meanStd, toSurrogateData, type SurrogateLike } from './surrogates.js';
export { writeTracesReport, type TracesReportOptions, type TracesReportResult } from './inspect.js';
export {
  recordNetworkTraces, targetInputs, tracesToRecordings, layerInfoOf, inputRecordings, readoutPredictions, INPUT_LAYER,
  type InspectRecordSpec, type InspectSamples, type RecordNetworkOptions, type InputSpikes,
} from './record.js';
export {
  buildRunReport, writeRunReport, buildTracesReport, writeTracesPage, buildSurrogateReport, writeSurrogateReport, traceSections, type WrittenReport,
} from './run.js';
export { accuracyRowsFromRuns, writeSurrogateExperimentReport, type SurrogateRun } from './surrogate-experiment.js';
export { buildRuleComparisonPage, ruleComparisonMarkdown, ruleComparisonRows, writeRuleComparisonReport, type RuleComparisonResults, type RuleComparisonRun } from './rule-comparison.js';
export { spikingRunExtras, pickTraceSamples, RUN_TRACES_STEM, type RunExtras, type RunExtrasOptions } from './run-extras.js';
export { nirGraphSection, readNirImportRecord, NIR_IMPORT_FILE, type NirImportRecord, type NirGraphRecord } from './nir-graph.js';
