/**
 * dp_accounting's `DEFAULT_RDP_ORDERS` (rdp_privacy_accountant.py): 1 + x/10 for x = 1..99 (the
 * same expression, so 2.0, 3.0, … are exact integers and take the integer path), then 11..63,
 * then 128, 256, 512, 1024 — 156 orders.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10.0),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128,
  256,
  512,
  1024,
]);

/**
 * Integer orders 2..128 and 256, as used by the official accounting code of the distributed
 * Skellam and distributed discrete Gaussian papers (google-research/federated
 * distributed_dp/accounting_utils.py `RDP_ORDERS`). The Zhu–Wang subsampling bound is defined only
 * at integer orders, so events containing those mechanisms are accounted on these.
 */
export const INTEGER_RDP_ORDERS: readonly number[] = Object.freeze([...Array.from({ length: 127 }, (_, i) => 2 + i), 256]);
