/**
 * Data preparation for training: reading CSV and IDX files into {@link dev.kiln.data.Dataset}s,
 * filling missing values ({@link dev.kiln.data.Imputer}), seeded train/test splits
 * ({@link dev.kiln.data.Split}), standardization ({@link dev.kiln.data.StandardScaler}),
 * mini-batches ({@link dev.kiln.data.DataLoader}), the epoch loss and evaluation metrics.
 */
package dev.kiln.data;
