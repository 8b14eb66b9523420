package dev.kiln.runtime;

/**
 * The result of evaluating a model on a dataset.
 *
 * @param meanLoss the loss per sample: the mean loss, or for a model that sums its loss terms
 *     ({@code LossReduction.SUM}) the sum divided by the number of samples
 * @param accuracy the fraction of samples whose predicted class is the label, or NaN for a
 *     regression model
 * @param samples the number of samples evaluated
 */
public record Evaluation(double meanLoss, double accuracy, long samples) {
}
