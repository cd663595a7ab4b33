import { z } from "zod";
import type { Context } from "../../app/context.ts";
import { inspectDataset } from "../../datasets/inspect-dataset.ts";
import { listCategories } from "../../datasets/list-categories.ts";
import {
  deleteDataset,
  getDataset,
  listDatasets,
  setDatasetMapping,
  uploadDataset,
} from "../../datasets/manage-datasets.ts";
import { AppError, badInput } from "../../lib/errors.ts";
import { actorOf } from "../authenticate.ts";
import type { App } from "../build-server.ts";
import { dataCategory, dataset, datasetFields, idParam, mappingDocument } from "../schemas.ts";

const datasetParams = z.object({ id: z.uuid(), datasetId: z.uuid() });

export async function datasetRoutes(app: App, ctx: Context): Promise<void> {
  const tags = ["datasets"];
  app.get(
    "/incidents/:id/datasets",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The incident's datasets",
        params: idParam,
        response: { 200: z.array(dataset) },
      },
    },
    async (request) => listDatasets(ctx, actorOf(request), request.params.id),
  );
  app.post(
    "/incidents/:id/datasets",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary:
          "Upload a vendor export (multipart/form-data: an optional `mapping` field with JSON, then the `file`)",
        description:
          "Streamed to disk and sealed as it arrives, so any size up to BLASTRADIUS_MAX_UPLOAD works in constant memory. The format is detected from the content when it is analysed.",
        params: idParam,
        consumes: ["multipart/form-data"],
        response: { 201: dataset },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart())
        throw new AppError("USAGE", "send the dataset as multipart/form-data with a `file` field");
      const file = await request.file();
      if (!file) throw new AppError("USAGE", "the form has no `file` field");
      if (file.fieldname !== "file")
        throw new AppError("USAGE", `field ${JSON.stringify(file.fieldname)}: send the dataset as \`file\``);
      // At BLASTRADIUS_MAX_UPLOAD the multipart parser cuts the file off and ends the stream as if it were
      // complete (only `truncated` tells): fail the stream instead, so no cut-off file is stored as a dataset.
      const tooLarge = () =>
        new AppError(
          "TOO_LARGE",
          `the upload is larger than the limit of ${ctx.config.maxUploadBytes} bytes (BLASTRADIUS_MAX_UPLOAD)`,
        );
      if (file.file.truncated) throw tooLarge();
      file.file.once("limit", () => file.file.destroy(tooLarge()));
      let mapping: unknown;
      const field = file.fields.mapping;
      if (field && !Array.isArray(field) && field.type === "field") {
        try {
          mapping = JSON.parse(String(field.value));
        } catch {
          throw badInput("mapping: not valid JSON");
        }
      }
      const created = await uploadDataset(ctx, actorOf(request), request.params.id, {
        fileName: file.filename,
        content: file.file,
        mapping,
      });
      return reply.status(201).send(created);
    },
  );
  app.get(
    "/incidents/:id/datasets/:datasetId",
    {
      config: { role: "viewer" },
      schema: { tags, summary: "One dataset", params: datasetParams, response: { 200: dataset } },
    },
    async (request) => getDataset(ctx, actorOf(request), request.params.id, request.params.datasetId),
  );
  app.get(
    "/incidents/:id/datasets/:datasetId/fields",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "The dataset's format and fields, from a sample of its first records (audited)",
        description:
          "For the mapping editor: each field's count in the sample, up to 3 masked values, the category it maps to (the defaults with the dataset's mapping) and the identifying roles it plays; `unmapped` lists the fields with neither.",
        params: datasetParams,
        response: { 200: datasetFields },
      },
    },
    async (request) => inspectDataset(ctx, actorOf(request), request.params.id, request.params.datasetId),
  );
  app.get(
    "/categories",
    {
      config: { role: "viewer" },
      schema: {
        tags,
        summary: "The data categories a field can be mapped to, with their plain names",
        response: { 200: z.array(dataCategory) },
      },
    },
    async (request) => listCategories(actorOf(request)),
  );
  app.put(
    "/incidents/:id/datasets/:datasetId/mapping",
    {
      config: { role: "analyst" },
      schema: {
        tags,
        summary: "Set the dataset's field mapping (null: the defaults)",
        params: datasetParams,
        body: z.object({ mapping: mappingDocument.nullable() }),
        response: { 200: dataset },
      },
    },
    async (request) =>
      setDatasetMapping(
        ctx,
        actorOf(request),
        request.params.id,
        request.params.datasetId,
        request.body.mapping,
      ),
  );
  app.delete(
    "/incidents/:id/datasets/:datasetId",
    {
      config: { role: "responder" },
      schema: {
        tags,
        summary: "Remove a dataset and its file",
        params: datasetParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deleteDataset(ctx, actorOf(request), request.params.id, request.params.datasetId);
      return reply.status(204).send(null);
    },
  );
}
