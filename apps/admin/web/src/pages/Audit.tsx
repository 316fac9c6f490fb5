import { SimpleList } from '../components/SimpleList';

export function Audit() {
  return (
    <SimpleList
      title="Audit log"
      path="/audit"
      columns={[
        ['createdAt', 'When'],
        ['operatorEmail', 'Who'],
        ['action', 'What'],
        ['targetType', 'On'],
        ['targetId', 'Target'],
        ['reason', 'Why'],
      ]}
    />
  );
}
