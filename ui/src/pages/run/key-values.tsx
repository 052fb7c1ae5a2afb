/** A run's params or tags: keys in order, long values wrapped. */
export function KeyValues({ values, empty }: { values: Record<string, string>; empty: string }) {
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="kv key-values">
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{values[k]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
