import { describe, expect, it } from 'vitest';
import { fitStandardizer, parseCsv, parseTabular, standardize, type TabularSchema } from '../../src/trainer/data/csv.js';

const CSV = 'age,income,outcome\n30,1000,no\n40,3000,yes\n50,2000,no\n';

describe('parseCsv', () => {
  it('infers the schema from the header and maps labels to sorted classes', () => {
    const ds = parseCsv(CSV, { labelColumn: 'outcome' });
    expect(ds.featureNames).toEqual(['age', 'income']);
    expect(ds.classNames).toEqual(['no', 'yes']);
    expect(Array.from(ds.features)).toEqual([30, 1000, 40, 3000, 50, 2000]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 0]);
    expect(ds.featureShape).toEqual([2]);
    expect(ds.size).toBe(3);
  });

  it('follows a given schema, quoted fields, CRLF and headerless files', () => {
    const ds = parseCsv('"a,b",x,y\r\n"yes",1,2\r\n"no",3,4\r\n', { labelColumn: 'a,b', featureColumns: ['y', 'x'], classNames: ['no', 'yes'] });
    expect(Array.from(ds.features)).toEqual([2, 1, 4, 3]);
    expect(Array.from(ds.labels)).toEqual([1, 0]);
    const headerless = parseCsv('1;2;0\n3;4;10\n', { labelColumn: 2, header: false, delimiter: ';' });
    expect(headerless.classNames).toEqual(['0', '10']); // numeric labels sort numerically
    expect(Array.from(headerless.labels)).toEqual([0, 1]);
  });

  it('names the line and column of each kind of bad input', () => {
    expect(() => parseCsv('a,b,y\n1,2,0\n3,4\n', { labelColumn: 'y' })).toThrow(expect.objectContaining({ code: 'trainer/csv-ragged-row', message: expect.stringContaining('line 3') }));
    expect(() => parseCsv('a,b,y\n1,x2,0\n', { labelColumn: 'y' })).toThrow(expect.objectContaining({ code: 'trainer/csv-non-numeric', message: expect.stringContaining('column "b"') }));
    expect(() => parseCsv('a,b,y\n1,,0\n', { labelColumn: 'y' })).toThrow(expect.objectContaining({ code: 'trainer/csv-non-numeric' }));
    expect(() => parseCsv('a,b,y\n1,2,0\n', { labelColumn: 'label' })).toThrow(expect.objectContaining({ code: 'trainer/csv-missing-label-column', message: expect.stringContaining('"y"') }));
    expect(() => parseCsv('a,b,y\n1,2,\n', { labelColumn: 'y' })).toThrow(expect.objectContaining({ code: 'trainer/csv-missing-label' }));
    expect(() => parseCsv('a,y\n1,maybe\n', { labelColumn: 'y', classNames: ['no', 'yes'] })).toThrow(expect.objectContaining({ code: 'trainer/csv-unknown-class' }));
    expect(() => parseCsv('a,y\n', { labelColumn: 'y' })).toThrow(expect.objectContaining({ code: 'trainer/csv-empty' }));
    expect(() => parseCsv('a,y\n"1,0\n', { labelColumn: 'y' })).toThrow(expect.objectContaining({ code: 'trainer/csv-unterminated-quote' }));
    expect(() => parseCsv('a,y\n1,0\n', { labelColumn: 'y', featureColumns: ['z'] })).toThrow(expect.objectContaining({ code: 'trainer/csv-unknown-column' }));
  });
});

describe('standardisation computed locally', () => {
  it('centres and scales each feature by the local rows only', () => {
    const ds = parseCsv(CSV, { labelColumn: 'outcome' });
    const s = fitStandardizer(ds);
    expect(Array.from(s.mean)).toEqual([40, 2000]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(200 / 3), 10);
    const z = standardize(ds, s);
    expect(z.features[0]).toBeCloseTo(-10 / Math.sqrt(200 / 3), 5);
    expect(z.features[1]).toBeCloseTo(-1000 / Math.sqrt(2e6 / 3), 5);
    const constant = fitStandardizer(parseCsv('a,y\n5,0\n5,1\n', { labelColumn: 'y' }));
    expect(constant.std[0]).toBe(1); // no division by zero for a constant column
  });
});

describe('parseTabular: data read through the federation\'s schema', () => {
  const schema: TabularSchema = { features: ['temp_max', 'wind'], label: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] };

  it('gives every participant the same class index, whatever classes its own rows hold', () => {
    const withSnow = parseTabular('date,wind,temp_max,weather\n1,2,10,sun\n2,5,-3,snow\n3,1,20,fog\n', schema);
    const withoutSnow = parseTabular('date,wind,temp_max,weather\n4,2,11,sun\n5,3,12,rain\n', schema);
    expect(Array.from(withSnow.labels)).toEqual([4, 3, 1]);
    expect(Array.from(withoutSnow.labels)).toEqual([4, 2]); // "sun" is class 4 here too, not 3
    expect(withoutSnow.numClasses).toBe(5);
    // features follow the schema's order, not the file's; other columns (date) are ignored
    expect(Array.from(withSnow.features.subarray(0, 2))).toEqual([10, 2]);
    expect(withSnow.labelled).toBe(true);
  });

  it('applies the standardisation fixed in the schema', () => {
    const ds = parseTabular('temp_max,wind,weather\n12,4,sun\n', { ...schema, standardize: { mean: [10, 2], std: [4, 0.5] } });
    expect(Array.from(ds.features)).toEqual([0.5, 4]);
  });

  it('reads a file without the label column as unlabelled only where labels are optional', () => {
    const ds = parseTabular('temp_max,wind\n1,2\n3,4\n', schema, { labels: 'optional' });
    expect(ds.labelled).toBe(false);
    expect(ds.size).toBe(2);
    expect(() => parseTabular('temp_max,wind\n1,2\n', schema)).toThrow(expect.objectContaining({ code: 'trainer/csv-missing-label-column', message: expect.stringContaining('label column "weather" not found') }));
  });

  it('names the column, the line and the rule of each mismatch', () => {
    const refusal = (text: string) => {
      try {
        parseTabular(text, schema);
      } catch (e) {
        return e as { code: string; message: string };
      }
      throw new Error('accepted');
    };
    expect(refusal('temp_max,weather\n1,sun\n')).toMatchObject({ code: 'trainer/csv-unknown-column', message: expect.stringContaining('feature column "wind" not found') });
    expect(refusal('temp_max,wind,weather\n1,2,sun\n1,2,hail\n')).toMatchObject({
      code: 'trainer/csv-unknown-class',
      message: 'CSV line 3, column "weather": label "hail" is not one of the classes drizzle, fog, rain, snow, sun',
    });
    expect(refusal('temp_max,wind,weather\n1,calm,sun\n')).toMatchObject({ code: 'trainer/csv-non-numeric', message: expect.stringContaining('line 2, column "wind"') });
    expect(refusal('temp_max,wind,weather\n1,2,sun\n1,2,3,sun\n')).toMatchObject({ code: 'trainer/csv-ragged-row', message: 'CSV line 3 has 4 fields, expected 3 (one per header column)' });
    expect(parseTabular('temp_max;wind;weather\n1;2;fog\n', { ...schema, delimiter: ';' }).labels[0]).toBe(1);
  });
});
